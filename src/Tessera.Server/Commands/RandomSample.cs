namespace Tessera.Server.Commands;

/// <summary>
/// Which elements HRANDFIELD, SRANDMEMBER and ZRANDMEMBER return, as positions in the collection's iteration
/// order: a negative count draws with repetition, a count at least the size returns everything in order, a smaller
/// count returns that many distinct elements.
/// </summary>
internal static class RandomSample
{
    public static List<long> Pick(long size, long requested, Random random)
    {
        var picks = new List<long>();
        if (requested < 0)
        {
            for (long i = 0; i < -requested; i++)
            {
                picks.Add(random.NextInt64(size));
            }
            return picks;
        }
        if (requested >= size)
        {
            for (long i = 0; i < size; i++)
            {
                picks.Add(i);
            }
            return picks;
        }
        // Floyd's algorithm: requested distinct positions without materialising the whole range.
        var chosen = new HashSet<long>();
        for (var j = size - requested; j < size; j++)
        {
            var t = random.NextInt64(j + 1);
            picks.Add(chosen.Add(t) ? t : j);
            chosen.Add(j);
        }
        return picks;
    }
}
