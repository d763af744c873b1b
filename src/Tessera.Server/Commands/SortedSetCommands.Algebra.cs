using Tessera.Resp;
using Tessera.Server.Sessions;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand); sets count as score 1.</summary>
internal static partial class SortedSetCommands
{
    private enum SetOperation
    {
        Union,
        Intersection,
        Difference,
    }

    private enum Aggregate
    {
        Sum,
        Min,
        Max,
    }

    /// <summary>An input of the operation: a sorted set, a plain set (scores 1), or nothing.</summary>
    private sealed class Source(SortedSetValue? zset, SetValue? set)
    {
        public double Weight { get; set; } = 1;

        public long Count => zset?.Count ?? set?.Count ?? 0;

        public bool Is(Source other) => (zset is not null && zset == other.ZSet) || (set is not null && set == other.Set);

        public SortedSetValue? ZSet => zset;

        public SetValue? Set => set;

        public IEnumerable<(byte[] Member, double Score)> Elements()
            => zset?.Walk(0, reverse: false) ?? set?.Members().Select(m => (m, 1.0)) ?? [];

        public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
        {
            if (zset is not null)
            {
                return zset.TryGetScore(member, out score);
            }
            score = 1;
            return set is not null && set.Contains(member);
        }
    }

    private static void RegisterAlgebra(CommandRegistry r)
    {
        r.Add("zunion", c => Combine(c, 1, store: false, SetOperation.Union, cardinalityOnly: false));
        r.Add("zinter", c => Combine(c, 1, store: false, SetOperation.Intersection, cardinalityOnly: false));
        r.Add("zdiff", c => Combine(c, 1, store: false, SetOperation.Difference, cardinalityOnly: false));
        r.Add("zunionstore", c => Combine(c, 2, store: true, SetOperation.Union, cardinalityOnly: false));
        r.Add("zinterstore", c => Combine(c, 2, store: true, SetOperation.Intersection, cardinalityOnly: false));
        r.Add("zdiffstore", c => Combine(c, 2, store: true, SetOperation.Difference, cardinalityOnly: false));
        r.Add("zintercard", c => Combine(c, 1, store: false, SetOperation.Intersection, cardinalityOnly: true));
    }

    private static void Combine(CommandContext c, int numKeysIndex, bool store, SetOperation operation, bool cardinalityOnly)
    {
        if (!c.TryGetLong(numKeysIndex, out var count))
        {
            return;
        }
        if (count < 1)
        {
            c.Error($"ERR at least 1 input key is needed for '{c.CommandName}' command");
            return;
        }
        if (count > c.ArgCount - (numKeysIndex + 1))
        {
            c.SyntaxError();
            return;
        }
        var sources = new List<Source>((int)count);
        var j = numKeysIndex + 1;
        for (var i = 0; i < count; i++, j++)
        {
            if (!c.Db.TryGet(c.Arg(j), out var entry))
            {
                sources.Add(new Source(null, null));
                continue;
            }
            if (entry.Item is SortedSetValue zset)
            {
                sources.Add(new Source(zset, null));
            }
            else if (entry.Item is SetValue set)
            {
                sources.Add(new Source(null, set));
            }
            else
            {
                c.WrongType();
                return;
            }
        }
        var aggregate = Aggregate.Sum;
        var withScores = false;
        long limit = 0;
        while (j < c.ArgCount)
        {
            var remaining = c.ArgCount - j;
            if (operation != SetOperation.Difference && !cardinalityOnly && remaining >= count + 1 && c.ArgIs(j, "weights"u8))
            {
                j++;
                foreach (var source in sources)
                {
                    if (!RedisDouble.TryParse(c.Arg(j++), out var weight))
                    {
                        c.Error("ERR weight value is not a float");
                        return;
                    }
                    source.Weight = weight;
                }
            }
            else if (operation != SetOperation.Difference && !cardinalityOnly && remaining >= 2 && c.ArgIs(j, "aggregate"u8))
            {
                j++;
                if (c.ArgIs(j, "sum"u8))
                {
                    aggregate = Aggregate.Sum;
                }
                else if (c.ArgIs(j, "min"u8))
                {
                    aggregate = Aggregate.Min;
                }
                else if (c.ArgIs(j, "max"u8))
                {
                    aggregate = Aggregate.Max;
                }
                else
                {
                    c.SyntaxError();
                    return;
                }
                j++;
            }
            else if (!store && !cardinalityOnly && c.ArgIs(j, "withscores"u8))
            {
                j++;
                withScores = true;
            }
            else if (cardinalityOnly && remaining >= 2 && c.ArgIs(j, "limit"u8))
            {
                if (!RedisInteger.TryParse(c.Arg(j + 1), out limit) || limit < 0)
                {
                    c.Error("ERR LIMIT can't be negative");
                    return;
                }
                j += 2;
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (operation != SetOperation.Difference)
        {
            sources = [.. sources.OrderBy(s => s.Count)];
        }
        var result = operation switch
        {
            SetOperation.Intersection => Intersect(sources, aggregate, cardinalityOnly, limit),
            SetOperation.Union => Union(sources, aggregate),
            _ => Difference(sources),
        };
        if (cardinalityOnly)
        {
            c.Reply.WriteInteger(result.Count);
            return;
        }
        result.Sort(static (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : a.Member.AsSpan().SequenceCompareTo(b.Member));
        if (store)
        {
            StoreRange(c, result);
            return;
        }
        WriteScoredHeader(c.Reply, result.Count, withScores);
        foreach (var (member, score) in result)
        {
            if (withScores)
            {
                WriteScored(c.Reply, member, score, nested: true);
            }
            else
            {
                c.Reply.WriteBulk(member);
            }
        }
    }

    private static double Combine(double total, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                var sum = total + value;
                return double.IsNaN(sum) ? 0 : sum;
            case Aggregate.Min:
                return value < total ? value : total;
            default:
                return value > total ? value : total;
        }
    }

    private static double Weighted(double score, double weight)
    {
        var weighted = score * weight;
        return double.IsNaN(weighted) ? 0 : weighted;
    }

    private static List<(byte[] Member, double Score)> Intersect(List<Source> sources, Aggregate aggregate, bool cardinalityOnly, long limit)
    {
        var result = new List<(byte[] Member, double Score)>();
        if (sources[0].Count == 0)
        {
            return result;
        }
        foreach (var (member, score) in sources[0].Elements())
        {
            var total = Weighted(score, sources[0].Weight);
            var inAll = true;
            for (var j = 1; j < sources.Count && inAll; j++)
            {
                if (sources[j].Is(sources[0]))
                {
                    total = Combine(total, score * sources[j].Weight, aggregate);
                }
                else if (sources[j].TryGetScore(member, out var other))
                {
                    total = Combine(total, other * sources[j].Weight, aggregate);
                }
                else
                {
                    inAll = false;
                }
            }
            if (inAll)
            {
                result.Add((member, total));
                if (cardinalityOnly && limit > 0 && result.Count >= limit)
                {
                    break;
                }
            }
        }
        return result;
    }

    private static List<(byte[] Member, double Score)> Union(List<Source> sources, Aggregate aggregate)
    {
        var accumulated = new Dictionary<string, (byte[] Member, double Score)>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var (member, score) in source.Elements())
            {
                var weighted = Weighted(score, source.Weight);
                var name = System.Text.Encoding.Latin1.GetString(member);
                accumulated[name] = accumulated.TryGetValue(name, out var existing)
                    ? (existing.Member, Combine(existing.Score, weighted, aggregate))
                    : (member, weighted);
            }
        }
        return [.. accumulated.Values];
    }

    private static List<(byte[] Member, double Score)> Difference(List<Source> sources)
    {
        var result = new List<(byte[] Member, double Score)>();
        if (sources[0].Count == 0 || sources.Skip(1).Any(s => s.Is(sources[0])))
        {
            return result;
        }
        foreach (var (member, score) in sources[0].Elements())
        {
            if (!sources.Skip(1).Any(s => s.TryGetScore(member, out _)))
            {
                result.Add((member, score));
            }
        }
        return result;
    }
}
