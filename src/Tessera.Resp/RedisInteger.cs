namespace Tessera.Resp;

/// <summary>
/// Integer text as Redis reads and writes it (Redis's <c>string2ll</c> rules): optional '-', no '+', no leading
/// zeros, no spaces, at most 20 characters, within the range of a signed 64-bit integer. Used for protocol lengths
/// and for every integer argument, so "value is not an integer or out of range" is decided in one place.
/// </summary>
public static class RedisInteger
{
    /// <summary>Longest text a 64-bit integer can take ("-9223372036854775808").</summary>
    public const int MaxLength = 20;

    /// <summary>Parses <paramref name="text"/> with Redis's strict rules; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > MaxLength)
        {
            return false;
        }
        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }
        var negative = text[0] == (byte)'-';
        var i = negative ? 1 : 0;
        if (i == text.Length || text[i] < (byte)'1' || text[i] > (byte)'9')
        {
            return false;
        }
        ulong magnitude = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9 || magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }
            magnitude = magnitude * 10 + digit;
        }
        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }
            value = (long)(0 - magnitude);
            return true;
        }
        if (magnitude > long.MaxValue)
        {
            return false;
        }
        value = (long)magnitude;
        return true;
    }

    /// <summary>Number of characters <paramref name="value"/> takes in decimal.</summary>
    public static int DigitCount(long value)
    {
        var length = value < 0 ? 2 : 1;
        var magnitude = value < 0 ? 0 - (ulong)value : (ulong)value;
        while (magnitude >= 10)
        {
            magnitude /= 10;
            length++;
        }
        return length;
    }

    /// <summary>Writes <paramref name="value"/> in decimal; returns the number of bytes written.</summary>
    public static int Format(long value, Span<byte> destination)
    {
        var length = DigitCount(value);
        var magnitude = value < 0 ? 0 - (ulong)value : (ulong)value;
        for (var i = length - 1; i >= (value < 0 ? 1 : 0); i--)
        {
            destination[i] = (byte)('0' + (int)(magnitude % 10));
            magnitude /= 10;
        }
        if (value < 0)
        {
            destination[0] = (byte)'-';
        }
        return length;
    }

    /// <summary>
    /// <paramref name="value"/> + <paramref name="increment"/> unless it overflows a signed 64-bit integer (INCRBY,
    /// HINCRBY): Redis refuses those with "increment or decrement would overflow".
    /// </summary>
    public static bool TryAdd(long value, long increment, out long sum)
    {
        sum = unchecked(value + increment);
        return !((increment < 0 && value < 0 && increment < long.MinValue - value)
            || (increment > 0 && value > 0 && increment > long.MaxValue - value));
    }
}
