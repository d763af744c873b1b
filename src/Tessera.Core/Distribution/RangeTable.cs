using System.Buffers.Text;

namespace Tessera.Core.Distribution;

/// <summary>
/// Range partitioning: a key's id is the first run of decimal digits in its hashed part ("user:1234" -> 1234), and
/// each server owns a range of ids ("users 0 to 9999 on the first server"). Keys without an id, or whose id no range
/// covers, have no server.
/// </summary>
public sealed class RangeTable
{
    private readonly (long Low, long High, int Server)[] _ranges;

    public RangeTable(IEnumerable<(long Low, long High, int Server)> ranges) => _ranges = [.. ranges.OrderBy(r => r.Low)];

    /// <summary>The server index for <paramref name="hashedPart"/>, or -1.</summary>
    public int Locate(ReadOnlySpan<byte> hashedPart)
    {
        if (!TryGetId(hashedPart, out var id))
        {
            return -1;
        }
        foreach (var (low, high, server) in _ranges)
        {
            if (id >= low && id <= high)
            {
                return server;
            }
        }
        return -1;
    }

    /// <summary>The first run of digits of <paramref name="key"/> as a number; false when there is none (or it overflows).</summary>
    public static bool TryGetId(ReadOnlySpan<byte> key, out long id)
    {
        id = 0;
        var start = key.IndexOfAnyInRange((byte)'0', (byte)'9');
        if (start < 0)
        {
            return false;
        }
        var digits = key[start..];
        var end = digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        return Utf8Parser.TryParse(end < 0 ? digits : digits[..end], out id, out _);
    }

    /// <summary>Parses "0-9999" or "20000-" (open-ended); false when malformed.</summary>
    public static bool TryParseRange(string text, out long low, out long high)
    {
        high = long.MaxValue;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !long.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out low))
        {
            low = 0;
            return false;
        }
        var upper = text.AsSpan(dash + 1);
        return (upper.IsEmpty || long.TryParse(upper, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out high)) && high >= low;
    }
}
