using System.Numerics;
using System.Text;

namespace Tessera.Core.Text;

/// <summary>
/// The x87 80-bit "long double" (64-bit mantissa, 15-bit exponent) that Redis uses for INCRBYFLOAT and
/// HINCRBYFLOAT on x86-64, emulated exactly: parsing rounds like strtold, addition rounds the exact sum to 64 bits
/// (ties to even), and <see cref="FormatHuman"/> prints like Redis's <c>"%.17Lf"</c> with trailing zeros removed.
/// Plain doubles would print 10.5 + 0.1 as "10.59999999999999964" where Redis prints "10.6".
/// </summary>
public readonly struct ExtendedFloat
{
    private const int MantissaBits = 64;
    private const int MaxExponent = 16383;
    private const int MinExponent = -16445;

    // Value = (Negative ? -1 : 1) * Mantissa * 2^Exponent, or infinity.
    private readonly BigInteger _mantissa;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly bool _infinite;

    private ExtendedFloat(bool negative, BigInteger mantissa, int exponent, bool infinite = false)
    {
        _negative = negative;
        _mantissa = mantissa;
        _exponent = exponent;
        _infinite = infinite;
    }

    /// <summary>False for infinities (NaN is never produced).</summary>
    public bool IsFinite => !_infinite;

    /// <summary>-1, 0 or 1.</summary>
    public int Sign => _mantissa.IsZero && !_infinite ? 0 : _negative ? -1 : 1;

    /// <summary>The nearest double: ±0 below a double's smallest subnormal, ±infinity above its largest value.</summary>
    public double ToDouble()
    {
        var magnitude = _infinite ? double.PositiveInfinity : _mantissa.IsZero ? 0.0 : Math.ScaleB((double)_mantissa, _exponent);
        return _negative ? -magnitude : magnitude;
    }

    /// <summary>An exact integer value.</summary>
    public static ExtendedFloat FromInt64(long value) => Round(value < 0, BigInteger.Abs(value), 0);

    /// <summary>The exact value of a double, as C widens a double to long double.</summary>
    public static ExtendedFloat FromDouble(double value)
    {
        if (double.IsInfinity(value))
        {
            return new ExtendedFloat(value < 0, BigInteger.Zero, 0, infinite: true);
        }
        var bits = BitConverter.DoubleToInt64Bits(value);
        var biased = (int)((bits >> 52) & 0x7FF);
        var fraction = bits & 0xFFFFFFFFFFFFFL;
        var mantissa = biased == 0 ? fraction : fraction | (1L << 52);
        return mantissa == 0
            ? new ExtendedFloat(bits < 0, BigInteger.Zero, 0)
            : Round(bits < 0, mantissa, biased == 0 ? -1074 : biased - 1075);
    }

    /// <summary>
    /// Parses like Redis's <c>string2ld</c>: strtold syntax (decimal, "inf"/"infinity"), no leading blank, nothing
    /// after the number (a NUL byte included); overflow, underflow to zero and NaN are refused. Hexadecimal floats
    /// are not accepted.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ExtendedFloat value)
    {
        value = default;
        // The whole argument must be the number: an embedded NUL makes it invalid, as in Redis 7.0.
        if (text.IsEmpty || text.Length >= 5 * 1024 || text.IndexOf((byte)0) >= 0)
        {
            return false;
        }
        var i = 0;
        var negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            i++;
        }
        var rest = text[i..];
        if (Ascii.EqualsIgnoreCase(rest, "inf"u8) || Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new ExtendedFloat(negative, BigInteger.Zero, 0, infinite: true);
            return true;
        }
        BigInteger digits = BigInteger.Zero;
        var decimalExponent = 0;
        var sawDigit = false;
        var sawPoint = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit((char)c))
            {
                digits = (digits * 10) + (c - '0');
                sawDigit = true;
                if (sawPoint)
                {
                    decimalExponent--;
                }
            }
            else if (c == (byte)'.' && !sawPoint)
            {
                sawPoint = true;
            }
            else
            {
                break;
            }
        }
        if (!sawDigit)
        {
            return false;
        }
        if (i < text.Length && text[i] is (byte)'e' or (byte)'E')
        {
            var j = i + 1;
            var expNegative = false;
            if (j < text.Length && text[j] is (byte)'+' or (byte)'-')
            {
                expNegative = text[j] == (byte)'-';
                j++;
            }
            if (j < text.Length && char.IsAsciiDigit((char)text[j]))
            {
                long exp = 0;
                for (; j < text.Length && char.IsAsciiDigit((char)text[j]); j++)
                {
                    exp = Math.Min((exp * 10) + (text[j] - '0'), 1_000_000);
                }
                decimalExponent += (int)(expNegative ? -exp : exp);
                i = j;
            }
        }
        if (i != text.Length)
        {
            return false;
        }
        if (digits.IsZero)
        {
            value = new ExtendedFloat(negative, BigInteger.Zero, 0);
            return true;
        }
        if (decimalExponent > 5000)
        {
            return false;
        }
        if (decimalExponent < -5200)
        {
            return false;
        }
        value = FromDecimal(negative, digits, decimalExponent);
        return value.IsFinite && !value._mantissa.IsZero;
    }

    /// <summary>The sum, rounded to the nearest long double (ties to even).</summary>
    public ExtendedFloat Add(ExtendedFloat other)
    {
        if (_infinite || other._infinite)
        {
            // inf + -inf is NaN in C; callers refuse any non-finite result, so infinity stands for both.
            return new ExtendedFloat(_infinite ? _negative : other._negative, BigInteger.Zero, 0, infinite: true);
        }
        if (_mantissa.IsZero)
        {
            return other;
        }
        if (other._mantissa.IsZero)
        {
            return this;
        }
        var exponent = Math.Min(_exponent, other._exponent);
        var a = (_mantissa << (_exponent - exponent)) * (_negative ? -1 : 1);
        var b = (other._mantissa << (other._exponent - exponent)) * (other._negative ? -1 : 1);
        var sum = a + b;
        return sum.IsZero ? new ExtendedFloat(false, BigInteger.Zero, 0) : Round(sum.Sign < 0, BigInteger.Abs(sum), exponent);
    }

    /// <summary>Redis's human-friendly long double text: "%.17Lf" without trailing zeros, "-0" printed as "0".</summary>
    public string FormatHuman()
    {
        if (_infinite)
        {
            return _negative ? "-inf" : "inf";
        }
        // Exact fixed-point value with 17 decimals, rounded half to even like glibc's printf.
        var scale = BigInteger.Pow(10, 17);
        BigInteger scaled;
        if (_exponent >= 0)
        {
            scaled = (_mantissa << _exponent) * scale;
        }
        else
        {
            var numerator = _mantissa * scale;
            var denominator = BigInteger.One << -_exponent;
            scaled = BigInteger.DivRem(numerator, denominator, out var remainder);
            var twice = remainder * 2;
            if (twice > denominator || (twice == denominator && !scaled.IsEven))
            {
                scaled += 1;
            }
        }
        var integer = BigInteger.DivRem(scaled, scale, out var fraction);
        var text = new StringBuilder();
        if (_negative)
        {
            text.Append('-');
        }
        text.Append(integer.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var frac = fraction.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(17, '0').TrimEnd('0');
        if (frac.Length > 0)
        {
            text.Append('.').Append(frac);
        }
        var result = text.ToString();
        return result == "-0" ? "0" : result;
    }

    private static ExtendedFloat FromDecimal(bool negative, BigInteger digits, int decimalExponent)
    {
        if (decimalExponent >= 0)
        {
            return Round(negative, digits * BigInteger.Pow(10, decimalExponent), 0);
        }
        // digits / 10^k: scale the numerator so the quotient has more than 64 significant bits, keep a sticky bit.
        var denominator = BigInteger.Pow(10, -decimalExponent);
        var shift = Math.Max(0, (int)(denominator.GetBitLength() - digits.GetBitLength()) + MantissaBits + 2);
        var quotient = BigInteger.DivRem(digits << shift, denominator, out var remainder);
        var sticky = remainder.IsZero ? BigInteger.Zero : BigInteger.One;
        return Round(negative, (quotient << 1) | sticky, -shift - 1);
    }

    /// <summary>Rounds mantissa * 2^exponent to 64 significant bits, ties to even; overflow gives infinity.</summary>
    private static ExtendedFloat Round(bool negative, BigInteger mantissa, int exponent)
    {
        var bits = (int)mantissa.GetBitLength();
        var drop = bits - MantissaBits;
        // Values below the smallest normal keep fewer bits (denormals).
        var lowest = MinExponent - exponent;
        if (drop < lowest)
        {
            drop = lowest;
        }
        if (drop > 0)
        {
            var half = BigInteger.One << (drop - 1);
            var kept = mantissa >> drop;
            var remainder = mantissa - (kept << drop);
            if (remainder > half || (remainder == half && !kept.IsEven))
            {
                kept += 1;
            }
            mantissa = kept;
            exponent += drop;
            if (mantissa.GetBitLength() > MantissaBits)
            {
                mantissa >>= 1;
                exponent++;
            }
        }
        if (exponent + (int)mantissa.GetBitLength() - 1 > MaxExponent)
        {
            return new ExtendedFloat(negative, BigInteger.Zero, 0, infinite: true);
        }
        return new ExtendedFloat(negative, mantissa, exponent);
    }
}
