using System.Globalization;
using System.Text;

namespace Tessera.Resp;

/// <summary>
/// Doubles as Redis reads and writes them: parsing like <c>strtod</c> with Redis's checks (no leading blank, no
/// trailing bytes, "inf"/"-inf" accepted, NaN refused) and formatting like C's <c>"%.17g"</c>, which Redis 7.0 uses for
/// scores and RESP3 doubles ("1.1000000000000001", "1e+21", "inf").
/// </summary>
public static class RedisDouble
{
    /// <summary>Longest text <see cref="Format"/> produces.</summary>
    public const int MaxLength = 32;

    private static readonly string[] ExponentFormats = [.. Enumerable.Range(0, 17).Select(p => "E" + p.ToString(CultureInfo.InvariantCulture))];

    private const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>
    /// Parses a double with Redis's rules (string2d): false for malformed text, NaN, and what strtod reports as out of
    /// range: a finite text too large for a double, or one too small that would read as zero.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 5000 || IsCSpace(text[0]))
        {
            return false;
        }
        var body = text;
        var negative = false;
        if (body[0] is (byte)'+' or (byte)'-')
        {
            negative = body[0] == (byte)'-';
            body = body[1..];
        }
        if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        // .NET's parser would accept "Infinity" spelled its own way and "NaN"; strtod's other forms are digits only.
        foreach (var c in body)
        {
            if (!(char.IsAsciiDigit((char)c) || c is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-'))
            {
                return false;
            }
        }
        if (!double.TryParse(text, Style, CultureInfo.InvariantCulture, out value) || double.IsNaN(value) || double.IsInfinity(value))
        {
            return false;
        }
        // Underflow to zero: ERANGE in strtod, which Redis refuses ("1e-400"); subnormal results are kept.
        var exponent = body.IndexOfAny((byte)'e', (byte)'E');
        var mantissa = exponent < 0 ? body : body[..exponent];
        return value != 0 || mantissa.IndexOfAnyInRange((byte)'1', (byte)'9') < 0;
    }

    /// <summary>Formats like C's <c>"%.17g"</c>; "inf", "-inf" and "nan" for the special values.</summary>
    public static int Format(double value, Span<byte> destination)
    {
        if (double.IsNaN(value))
        {
            return Copy("nan"u8, destination);
        }
        if (double.IsInfinity(value))
        {
            return Copy(value > 0 ? "inf"u8 : "-inf"u8, destination);
        }
        return FormatG(value, 17, destination);
    }

    /// <summary>
    /// C's "%.{precision}g": <paramref name="precision"/> significant digits, exponent form when the exponent is
    /// below -4 or at least the precision, trailing zeros removed.
    /// </summary>
    public static int FormatG(double value, int precision, Span<byte> destination)
    {
        // "E{p-1}" gives exactly p significant digits, correctly rounded: d.ddddE+xxx.
        Span<byte> e = stackalloc byte[40];
        value.TryFormat(e, out var n, ExponentFormats[precision - 1], CultureInfo.InvariantCulture);
        var text = e[..n];
        var negative = text[0] == (byte)'-';
        if (negative)
        {
            text = text[1..];
        }
        var ePos = text.IndexOf((byte)'E');
        int.TryParse(text[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent);
        Span<byte> digits = stackalloc byte[precision];
        var d = 0;
        foreach (var c in text[..ePos])
        {
            if (c != (byte)'.')
            {
                digits[d++] = c;
            }
        }
        while (d > 1 && digits[d - 1] == (byte)'0')
        {
            d--;
        }
        var w = 0;
        if (negative)
        {
            destination[w++] = (byte)'-';
        }
        if (exponent < -4 || exponent >= precision)
        {
            destination[w++] = digits[0];
            if (d > 1)
            {
                destination[w++] = (byte)'.';
                digits[1..d].CopyTo(destination[w..]);
                w += d - 1;
            }
            destination[w++] = (byte)'e';
            destination[w++] = exponent < 0 ? (byte)'-' : (byte)'+';
            var magnitude = Math.Abs(exponent);
            if (magnitude < 10)
            {
                destination[w++] = (byte)'0';
            }
            w += RedisInteger.Format(magnitude, destination[w..]);
            return w;
        }
        if (exponent < 0)
        {
            destination[w++] = (byte)'0';
            destination[w++] = (byte)'.';
            for (var i = -1; i > exponent; i--)
            {
                destination[w++] = (byte)'0';
            }
            digits[..d].CopyTo(destination[w..]);
            return w + d;
        }
        for (var i = 0; i <= exponent; i++)
        {
            destination[w++] = i < d ? digits[i] : (byte)'0';
        }
        if (d > exponent + 1)
        {
            destination[w++] = (byte)'.';
            digits[(exponent + 1)..d].CopyTo(destination[w..]);
            w += d - exponent - 1;
        }
        return w;
    }

    private static bool IsCSpace(byte c) => c == ' ' || (c >= '\t' && c <= '\r');

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }
}
