using System.Globalization;
using System.Numerics;

namespace Tessera.Core.Text;

/// <summary>
/// C's <c>strtod</c> for the places where Redis calls it directly rather than through its stricter number
/// readers (SORT's weights): leading white space, a sign, decimal or hexadecimal digits with an exponent, "inf",
/// "infinity" and "nan"; the longest valid prefix is read, and out-of-range results are flagged as ERANGE is.
/// </summary>
public static class CDouble
{
    /// <summary>Smallest positive normal double; glibc reports ERANGE for results below it.</summary>
    private const double MinNormal = 2.2250738585072014e-308;

    /// <summary>
    /// Parses the longest prefix of <paramref name="text"/> strtod accepts. <paramref name="consumed"/> is 0 when
    /// there is none (the value is then 0); <paramref name="outOfRange"/> is set on overflow or underflow.
    /// </summary>
    public static double ParsePrefix(ReadOnlySpan<byte> text, out int consumed, out bool outOfRange)
    {
        consumed = 0;
        outOfRange = false;
        var i = 0;
        while (i < text.Length && IsSpace(text[i]))
        {
            i++;
        }
        var negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            negative = text[i] == (byte)'-';
            i++;
        }
        var rest = text[i..];
        double magnitude;
        int length;
        if (StartsWithIgnoreCase(rest, "infinity"u8) || StartsWithIgnoreCase(rest, "inf"u8))
        {
            magnitude = double.PositiveInfinity;
            length = StartsWithIgnoreCase(rest, "infinity"u8) ? 8 : 3;
        }
        else if (StartsWithIgnoreCase(rest, "nan"u8))
        {
            magnitude = double.NaN;
            length = 3 + NanPayloadLength(rest[3..]);
        }
        else if (rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x' && HexDigitsAt(rest, 2))
        {
            length = ParseHex(rest, out magnitude, out outOfRange);
        }
        else
        {
            length = ParseDecimal(rest, out magnitude, out outOfRange);
        }
        if (length == 0)
        {
            return 0;
        }
        consumed = i + length;
        return negative ? -magnitude : magnitude;
    }

    private static int ParseDecimal(ReadOnlySpan<byte> text, out double value, out bool outOfRange)
    {
        value = 0;
        outOfRange = false;
        var i = 0;
        var digits = 0;
        var nonZero = false;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]))
        {
            nonZero |= text[i] != (byte)'0';
            i++;
            digits++;
        }
        if (i < text.Length && text[i] == (byte)'.')
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit((char)text[i]))
            {
                nonZero |= text[i] != (byte)'0';
                i++;
                digits++;
            }
        }
        if (digits == 0)
        {
            return 0;
        }
        var end = i;
        if (i < text.Length && (text[i] | 0x20) == (byte)'e')
        {
            var j = i + 1;
            if (j < text.Length && text[j] is (byte)'+' or (byte)'-')
            {
                j++;
            }
            if (j < text.Length && char.IsAsciiDigit((char)text[j]))
            {
                while (j < text.Length && char.IsAsciiDigit((char)text[j]))
                {
                    j++;
                }
                end = j;
            }
        }
        value = double.Parse(text[..end], NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        outOfRange = double.IsInfinity(value) || (nonZero && value < MinNormal);
        return end;
    }

    private static int ParseHex(ReadOnlySpan<byte> text, out double value, out bool outOfRange)
    {
        var mantissa = BigInteger.Zero;
        var exponent = 0L;
        var i = 2;
        var afterPoint = false;
        for (; i < text.Length; i++)
        {
            if (text[i] == (byte)'.' && !afterPoint)
            {
                afterPoint = true;
                continue;
            }
            var digit = HexValue(text[i]);
            if (digit < 0)
            {
                break;
            }
            mantissa = (mantissa << 4) | digit;
            if (afterPoint)
            {
                exponent -= 4;
            }
        }
        var end = i;
        if (i < text.Length && (text[i] | 0x20) == (byte)'p')
        {
            var j = i + 1;
            var negative = false;
            if (j < text.Length && text[j] is (byte)'+' or (byte)'-')
            {
                negative = text[j] == (byte)'-';
                j++;
            }
            if (j < text.Length && char.IsAsciiDigit((char)text[j]))
            {
                long power = 0;
                while (j < text.Length && char.IsAsciiDigit((char)text[j]))
                {
                    power = Math.Min(power * 10 + (text[j] - '0'), 1_000_000);
                    j++;
                }
                exponent += negative ? -power : power;
                end = j;
            }
        }
        value = mantissa.IsZero ? 0 : Scale(mantissa, exponent);
        outOfRange = !mantissa.IsZero && (double.IsInfinity(value) || value < MinNormal);
        return end;
    }

    /// <summary>mantissa x 2^exponent, rounded once to the nearest double.</summary>
    private static double Scale(BigInteger mantissa, long exponent)
    {
        // Keep 64 significant bits plus a sticky bit, so the final conversion rounds correctly for normal results.
        var bits = (long)mantissa.GetBitLength();
        if (bits > 64)
        {
            var shift = (int)(bits - 64);
            var sticky = (mantissa & ((BigInteger.One << shift) - 1)).IsZero ? 0 : 1;
            mantissa = (mantissa >> shift) | sticky;
            exponent += shift;
        }
        return Math.ScaleB((double)(ulong)mantissa, (int)Math.Clamp(exponent, -5000, 5000));
    }

    private static bool HexDigitsAt(ReadOnlySpan<byte> text, int at)
        => HexValue(text[at]) >= 0 || (text[at] == (byte)'.' && at + 1 < text.Length && HexValue(text[at + 1]) >= 0);

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Length of a "(chars)" payload after "nan", or 0 when there is none.</summary>
    private static int NanPayloadLength(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty || text[0] != (byte)'(')
        {
            return 0;
        }
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == (byte)')')
            {
                return i + 1;
            }
            if (!char.IsAsciiLetterOrDigit((char)text[i]) && text[i] != (byte)'_')
            {
                return 0;
            }
        }
        return 0;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word)
        => text.Length >= word.Length && System.Text.Ascii.EqualsIgnoreCase(text[..word.Length], word);

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';
}
