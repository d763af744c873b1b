using System.Text;

namespace Tessera.Server.Storage.Types;

/// <summary>A score interval of ZRANGEBYSCORE and friends: "(" marks an exclusive end, "-inf"/"+inf" allowed.</summary>
internal readonly record struct ScoreRange(double Min, bool MinExclusive, double Max, bool MaxExclusive)
{
    public bool AboveMin(double score) => MinExclusive ? score > Min : score >= Min;

    public bool BelowMax(double score) => MaxExclusive ? score < Max : score <= Max;

    public bool Contains(double score) => AboveMin(score) && BelowMax(score);

    /// <summary>True when no score can be in the range (Redis's zslIsInRange precheck).</summary>
    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    /// <summary>Redis's zslParseRange: each end is a float as strtod reads it, optionally after "(".</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreRange range)
    {
        range = default;
        if (!TryParseEnd(min, out var minValue, out var minEx) || !TryParseEnd(max, out var maxValue, out var maxEx))
        {
            return false;
        }
        range = new ScoreRange(minValue, minEx, maxValue, maxEx);
        return true;
    }

    private static bool TryParseEnd(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        exclusive = !text.IsEmpty && text[0] == (byte)'(';
        return Strtod(exclusive ? text[1..] : text, out value);
    }

    /// <summary>
    /// C's strtod as Redis's zslParseRange uses it: leading blanks skipped, hexadecimal and out-of-range values read
    /// as strtod reads them (1e309 is inf, 1e-400 is 0), nothing may follow the number, an empty text is 0, NaN
    /// refused.
    /// </summary>
    internal static bool Strtod(ReadOnlySpan<byte> text, out double value)
    {
        if (text.IndexOf((byte)0) >= 0)
        {
            value = 0;
            return false;
        }
        value = Core.Text.CDouble.ParsePrefix(text, out var consumed, out _);
        return consumed == text.Length && !double.IsNaN(value);
    }
}

/// <summary>A lexicographic interval of ZRANGEBYLEX: "[a" inclusive, "(a" exclusive, "-" and "+" the extremes.</summary>
internal readonly record struct LexRange(byte[] Min, bool MinExclusive, bool MinIsNegativeInfinity, byte[] Max, bool MaxExclusive, bool MaxIsPositiveInfinity)
{
    public bool AboveMin(ReadOnlySpan<byte> member)
    {
        if (MinIsNegativeInfinity)
        {
            return true;
        }
        var order = member.SequenceCompareTo(Min);
        return MinExclusive ? order > 0 : order >= 0;
    }

    public bool BelowMax(ReadOnlySpan<byte> member)
    {
        if (MaxIsPositiveInfinity)
        {
            return true;
        }
        var order = member.SequenceCompareTo(Max);
        return MaxExclusive ? order < 0 : order <= 0;
    }

    /// <summary>Redis's zslParseLexRange.</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = default;
        if (!TryParseEnd(min, out var minValue, out var minEx, out var minInf, out var minPlus)
            || !TryParseEnd(max, out var maxValue, out var maxEx, out var maxMinus, out var maxInf))
        {
            return false;
        }
        // "+" as a minimum and "-" as a maximum make the range empty; model them as impossible bounds.
        range = new LexRange(minValue, minEx || minPlus, minInf, maxValue, maxEx || maxMinus, maxInf)
        {
            EmptyByExtremes = minPlus || maxMinus,
        };
        return true;
    }

    /// <summary>True when "+" was given as minimum or "-" as maximum.</summary>
    public bool EmptyByExtremes { get; init; }

    /// <summary>True when nothing can lie in the range.</summary>
    public bool IsEmpty
    {
        get
        {
            if (EmptyByExtremes)
            {
                return true;
            }
            if (MinIsNegativeInfinity || MaxIsPositiveInfinity)
            {
                return false;
            }
            var order = Min.AsSpan().SequenceCompareTo(Max);
            return order > 0 || (order == 0 && (MinExclusive || MaxExclusive));
        }
    }

    private static bool TryParseEnd(ReadOnlySpan<byte> text, out byte[] value, out bool exclusive, out bool negativeInfinity, out bool positiveInfinity)
    {
        value = [];
        exclusive = false;
        negativeInfinity = false;
        positiveInfinity = false;
        if (text.IsEmpty)
        {
            return false;
        }
        switch (text[0])
        {
            case (byte)'+':
                positiveInfinity = true;
                return text.Length == 1;
            case (byte)'-':
                negativeInfinity = true;
                return text.Length == 1;
            case (byte)'(':
                exclusive = true;
                value = text[1..].ToArray();
                return true;
            case (byte)'[':
                value = text[1..].ToArray();
                return true;
            default:
                return false;
        }
    }

    public override string ToString() => Encoding.Latin1.GetString(Min) + ".." + Encoding.Latin1.GetString(Max);
}
