using System.Numerics;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// Per-command latency distribution in nanoseconds (INFO latencystats, LATENCY HISTOGRAM): log-linear buckets,
/// 16 per power of two, so percentiles are within ~6% like Redis's HDR histogram at 2 significant digits.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 4;
    private const int Sub = 1 << SubBits;

    private readonly long[] _counts = new long[(64 - SubBits) * Sub];

    public long Count { get; private set; }

    public void Record(long nanoseconds)
    {
        _counts[Index(Math.Max(1, nanoseconds))]++;
        Count++;
    }

    /// <summary>The value below which <paramref name="percentile"/>% of samples fall (bucket upper bound), in ns.</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }
        var target = (long)Math.Ceiling(percentile / 100.0 * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= Math.Max(1, target))
            {
                return UpperBound(i);
            }
        }
        return UpperBound(_counts.Length - 1);
    }

    /// <summary>Cumulative counts at power-of-two microsecond boundaries, for LATENCY HISTOGRAM.</summary>
    public IEnumerable<(long Micros, long Cumulative)> PowerOfTwoBuckets()
    {
        long cumulative = 0;
        var next = 0;
        for (var micros = 1L; cumulative < Count && micros > 0; micros <<= 1)
        {
            var limit = micros * 1000;
            while (next < _counts.Length && UpperBound(next) < limit)
            {
                cumulative += _counts[next++];
            }
            yield return (micros, cumulative);
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Count = 0;
    }

    private static int Index(long value)
    {
        if (value < Sub)
        {
            return (int)value;
        }
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBits;
        return ((shift + 1) * Sub) + (int)((value >> shift) - Sub);
    }

    private static long UpperBound(int index)
    {
        if (index < Sub)
        {
            return index;
        }
        var shift = (index / Sub) - 1;
        var mantissa = (long)(index % Sub) + Sub;
        return ((mantissa + 1) << shift) - 1;
    }
}
