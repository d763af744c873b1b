using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>The timeout argument of blocking commands: seconds as a float, 0 meaning forever.</summary>
internal static class BlockingTimeout
{
    /// <summary>
    /// The deadline in unix milliseconds (0: none) for argument <paramref name="index"/>; false after replying the
    /// error. As Redis, the milliseconds are truncated (so 0.0001 waits forever) and a value too large for a 64-bit
    /// count of milliseconds reads as negative.
    /// </summary>
    public static bool TryParse(CommandContext c, int index, out long deadlineMs)
    {
        deadlineMs = 0;
        if (!RedisDouble.TryParse(c.Arg(index), out var seconds) || double.IsNaN(seconds))
        {
            c.Error("ERR timeout is not a float or out of range");
            return false;
        }
        var milliseconds = Math.Truncate(seconds * 1000);
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
