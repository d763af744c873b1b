using Tessera.Core.Text;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>The timeout argument of blocking commands: seconds as a float, 0 meaning forever.</summary>
internal static class BlockingTimeout
{
    /// <summary>
    /// The deadline in unix milliseconds (0: none) for argument <paramref name="index"/>; false after replying the
    /// error. As Redis 7.0's getTimeoutFromObjectOrReply: the seconds are a long double (so 1e-400 is a tiny
    /// positive time, not 0), the milliseconds rounded up (0.0001 waits 1 ms), and a value too large for a 64-bit
    /// count of milliseconds reads as negative.
    /// </summary>
    public static bool TryParse(CommandContext c, int index, out long deadlineMs)
    {
        deadlineMs = 0;
        if (!ExtendedFloat.TryParse(c.Arg(index), out var seconds))
        {
            c.Error("ERR timeout is not a float or out of range");
            return false;
        }
        var milliseconds = Math.Ceiling(seconds.ToDouble() * 1000);
        if (milliseconds == 0 && seconds.Sign > 0)
        {
            // Positive but below a double's range: ceill of the long double is still 1.
            milliseconds = 1;
        }
        if (milliseconds is < 0 or >= 9.2233720368547758e18)
        {
            c.Error("ERR timeout is negative");
            return false;
        }
        var relative = (long)milliseconds;
        if (relative > 0)
        {
            var now = c.Keyspace.Now;
            deadlineMs = relative > long.MaxValue - now ? long.MaxValue : now + relative;
        }
        return true;
    }
}
