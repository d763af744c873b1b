using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>A collection whose elements SRANDMEMBER, HRANDFIELD, ZRANDMEMBER and SPOP pick by position.</summary>
internal interface IRandomPositions
{
    /// <summary>Number of elements.</summary>
    long Count { get; }

    /// <summary>The position of an element chosen uniformly at random; the collection must not be empty.</summary>
    long RandomPosition(Random random);

    /// <summary>Adds the position of every element, in the collection's iteration order.</summary>
    void AddPositions(List<long> positions);
}

/// <summary>
/// The count argument of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER, and which elements a count picks (Redis's cases
/// in t_set.c): a negative count draws with repetition (the caller streams those, so a huge count costs no memory
/// up front), a count at least the size returns everything, a smaller one that many distinct elements.
/// </summary>
internal static class RandomSample
{
    /// <summary>
    /// SRANDMEMBER, HRANDFIELD and ZRANDMEMBER without a count: the element <paramref name="pick"/> draws, or a null
    /// bulk string when the key does not exist.
    /// </summary>
    public static void ReplyOne<T>(CommandContext c, Func<T, Random, byte[]> pick)
        where T : Storage.StoredValue
    {
        if (!c.TryGet(c.Arg(1), out T? value))
        {
            return;
        }
        if (value is null)
        {
            c.Reply.WriteNullBulk();
        }
        else
        {
            c.Reply.WriteBulk(pick(value, c.Keyspace.Random));
        }
    }

    /// <summary>
    /// Parses the count as Redis does: -LONG_MAX..LONG_MAX, and at most half of that either way when elements come
    /// in pairs (WITHSCORES, WITHVALUES), since the reply then holds two entries per element.
    /// </summary>
    public static bool TryParseCount(CommandContext c, int index, bool pairs, out long count)
    {
        if (!c.TryGetLong(index, out count))
        {
            return false;
        }
        if (count == long.MinValue)
        {
            c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return false;
        }
        if (pairs && (count < -long.MaxValue / 2 || count > long.MaxValue / 2))
        {
            c.Error("ERR value is out of range");
            return false;
        }
        return true;
    }

    /// <summary>
    /// HRANDFIELD's and ZRANDMEMBER's <c>key count [option]</c>: the count, then the option (anything else is a
    /// syntax error), then the count again with the pair bound when the option asks for pairs, in Redis's order.
    /// False after the error reply.
    /// </summary>
    public static bool TryParseCountAndPairs(CommandContext c, ReadOnlySpan<byte> option, out long count, out bool pairs)
    {
        pairs = false;
        if (!TryParseCount(c, 2, pairs: false, out count))
        {
            return false;
        }
        if (c.ArgCount == 4 && c.ArgIs(3, option))
        {
            pairs = true;
        }
        else if (c.ArgCount >= 4)
        {
            c.SyntaxError();
            return false;
        }
        return !pairs || TryParseCount(c, 2, pairs: true, out count);
    }

    /// <summary>
    /// Positions of <paramref name="count"/> distinct elements (fewer than the collection holds), in random order.
    /// A count close to the size shuffles every position (Redis's case 3); a small one draws until it has enough
    /// distinct ones (case 4), which stays cheap on a big collection.
    /// </summary>
    public static List<long> Distinct(IRandomPositions source, long count, Random random)
    {
        var picks = new List<long>((int)Math.Min(count, 1 << 16));
        if (count * 3 > source.Count)
        {
            source.AddPositions(picks);
            for (var i = 0; i < count; i++)
            {
                var j = i + (int)random.NextInt64(picks.Count - i);
                (picks[i], picks[j]) = (picks[j], picks[i]);
            }
            picks.RemoveRange((int)count, picks.Count - (int)count);
            return picks;
        }
        var chosen = new HashSet<long>();
        while (picks.Count < count)
        {
            var position = source.RandomPosition(random);
            if (chosen.Add(position))
            {
                picks.Add(position);
            }
        }
        return picks;
    }
}
