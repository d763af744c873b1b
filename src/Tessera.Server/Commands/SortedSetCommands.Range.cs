using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>ZRANGE and its variants (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and ZRANGESTORE, as zrangeGenericCommand.</summary>
internal static partial class SortedSetCommands
{
    private enum RangeKind
    {
        Auto,
        Rank,
        Score,
        Lex,
    }

    private static void RegisterRanges(CommandRegistry r)
    {
        r.Add("zrange", c => Range(c, 1, store: false, RangeKind.Auto, reverse: null));
        r.Add("zrangestore", c => Range(c, 2, store: true, RangeKind.Auto, reverse: null));
        r.Add("zrevrange", c => Range(c, 1, store: false, RangeKind.Rank, reverse: true));
        r.Add("zrangebyscore", c => Range(c, 1, store: false, RangeKind.Score, reverse: false));
        r.Add("zrevrangebyscore", c => Range(c, 1, store: false, RangeKind.Score, reverse: true));
        r.Add("zrangebylex", c => Range(c, 1, store: false, RangeKind.Lex, reverse: false));
        r.Add("zrevrangebylex", c => Range(c, 1, store: false, RangeKind.Lex, reverse: true));
    }

    /// <summary>
    /// The ZRANGE family: options parsed first (unknown, repeated or conflicting ones are syntax errors), then the
    /// range, then the key. <paramref name="reverse"/> is null when REV may be given as an option.
    /// </summary>
    private static void Range(CommandContext c, int keyIndex, bool store, RangeKind kind, bool? reverse)
    {
        var withScores = false;
        long offset = 0;
        long limit = -1;
        var limitGiven = false;
        var rev = reverse ?? false;
        for (var j = keyIndex + 3; j < c.ArgCount; j++)
        {
            var left = c.ArgCount - j - 1;
            if (!store && c.ArgIs(j, "withscores"u8))
            {
                withScores = true;
            }
            else if (c.ArgIs(j, "limit"u8) && left >= 2)
            {
                if (!c.TryGetLong(j + 1, out offset) || !c.TryGetLong(j + 2, out limit))
                {
                    return;
                }
                limitGiven = true;
                j += 2;
            }
            else if (reverse is null && !rev && c.ArgIs(j, "rev"u8))
            {
                rev = true;
            }
            else if (kind == RangeKind.Auto && c.ArgIs(j, "bylex"u8))
            {
                kind = RangeKind.Lex;
            }
            else if (kind == RangeKind.Auto && c.ArgIs(j, "byscore"u8))
            {
                kind = RangeKind.Score;
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (kind == RangeKind.Auto)
        {
            kind = RangeKind.Rank;
        }
        if (limitGiven && limit != -1 && kind == RangeKind.Rank)
        {
            c.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && kind == RangeKind.Lex)
        {
            c.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        var (minIndex, maxIndex) = rev && kind != RangeKind.Rank ? (keyIndex + 2, keyIndex + 1) : (keyIndex + 1, keyIndex + 2);
        long start = 0, end = 0;
        ScoreRange scores = default;
        LexRange lex = default;
        switch (kind)
        {
            case RangeKind.Rank:
                if (!c.TryGetLong(minIndex, out start) || !c.TryGetLong(maxIndex, out end))
                {
                    return;
                }
                break;
            case RangeKind.Score:
                if (!ScoreRange.TryParse(c.Arg(minIndex), c.Arg(maxIndex), out scores))
                {
                    c.Error("ERR min or max is not a float");
                    return;
                }
                break;
            default:
                if (!LexRange.TryParse(c.Arg(minIndex), c.Arg(maxIndex), out lex))
                {
                    c.Error("ERR min or max not valid string range item");
                    return;
                }
                break;
        }
        if (!c.TryGet(c.Arg(keyIndex), out SortedSetValue? zset))
        {
            return;
        }
        var (first, count) = zset is null ? default : kind switch
        {
            RangeKind.Rank => ByRank(zset, start, end, rev),
            RangeKind.Score => scores.IsEmpty ? default : Select(zset, zset.FirstRankAtOrAbove(scores), zset.EndRankAtOrBelow(scores), rev, offset, limit),
            _ => lex.IsEmpty ? default : SelectLex(zset, lex, rev, offset, limit),
        };
        if (store)
        {
            StoreRange(c, count == 0 ? [] : AsFilledListpack(c, zset!.Walk(first, rev).Take(count).ToList()));
            return;
        }
        WriteScoredHeader(c.Reply, count, withScores);
        if (count == 0)
        {
            return;
        }
        foreach (var (member, score) in zset!.Walk(first, rev))
        {
            if (count-- == 0)
            {
                break;
            }
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

    private static (long First, int Count) SelectLex(SortedSetValue zset, LexRange lex, bool rev, long offset, long limit)
    {
        var (start, end) = zset.LexSpan(lex, rev);
        return Select(zset, start, end, rev, offset, limit);
    }

    /// <summary>
    /// Elements of ranks start..end (negative counting from the end), as genericZrangebyrankCommand: the rank to
    /// walk from and how many to take.
    /// </summary>
    private static (long First, int Count) ByRank(SortedSetValue zset, long start, long end, bool reverse)
    {
        var length = zset.Count;
        if (start < 0)
        {
            start = length + start;
        }
        if (end < 0)
        {
            end = length + end;
        }
        if (start < 0)
        {
            start = 0;
        }
        if (start > end || start >= length)
        {
            return default;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        return (reverse ? length - 1 - start : start, (int)(end - start + 1));
    }

    /// <summary>
    /// The elements of ranks [first, end) in order or reversed, after skipping <paramref name="offset"/> and taking
    /// at most <paramref name="limit"/> (negative: no limit), as the rank to walk from and how many to take. A
    /// negative offset selects nothing, as in Redis.
    /// </summary>
    private static (long First, int Count) Select(SortedSetValue zset, long first, long end, bool reverse, long offset, long limit)
    {
        if (offset < 0 || first >= end || (offset > 0 && offset >= zset.Count))
        {
            return default;
        }
        var available = end - first - offset;
        if (available <= 0)
        {
            return default;
        }
        var take = limit < 0 ? available : Math.Min(limit, available);
        return (reverse ? end - 1 - offset : first + offset, (int)take);
    }

    /// <summary>ZRANGESTORE (and ZUNIONSTORE ...): the destination is replaced by the selection (deleted when empty).</summary>
    private static void StoreRange(CommandContext c, List<(byte[] Member, double Score)> selected)
        // The event is the command's name: zrangestore, zunionstore, zinterstore, zdiffstore.
        => StoreSorted(c, c.Arg(1), selected, c.Command.Info.FullNameBytes);

    /// <summary>
    /// ZRANGESTORE's result as Redis builds it: in order, as a listpack while it fits, and a listpack keeps a score
    /// of -0 as 0; members added after the first one too long for it keep their -0.
    /// </summary>
    private static List<(byte[] Member, double Score)> AsFilledListpack(CommandContext c, List<(byte[] Member, double Score)> selected)
    {
        var config = c.Server.Config;
        var inListpack = selected.Count <= config.ZsetMaxListpackEntries.Value;
        for (var i = 0; i < selected.Count && inListpack; i++)
        {
            inListpack = selected[i].Member.Length <= config.ZsetMaxListpackValue.Value;
            if (inListpack && selected[i].Score == 0)
            {
                selected[i] = (selected[i].Member, 0.0);
            }
        }
        return selected;
    }

    /// <summary>
    /// Replaces <paramref name="destination"/> by the selection (deletes it when empty); replies with its size.
    /// <paramref name="changes"/>: what the store adds to the change counter (GEORADIUS STORE counts each member).
    /// </summary>
    internal static void StoreSorted(CommandContext c, ReadOnlySpan<byte> destination, List<(byte[] Member, double Score)> selected, ReadOnlySpan<byte> eventName, long changes = 1)
    {
        if (selected.Count == 0)
        {
            if (c.Db.Delete(destination))
            {
                c.Modified(destination, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var config = c.Server.Config;
        var result = new SortedSetValue(compact: selected.Count <= config.ZsetMaxListpackEntries.Value
            && selected.All(e => e.Member.Length <= config.ZsetMaxListpackValue.Value));
        foreach (var (member, score) in selected.OrderBy(e => e.Score).ThenBy(e => e.Member, ByteOrder.Instance))
        {
            result.Insert(score, member);
        }
        c.Db.Set(destination, result);
        c.Modified(destination, KeyspaceEvents.ZSet, eventName, changes);
        c.Reply.WriteInteger(result.Count);
    }
}

/// <summary>Orders byte strings as memcmp does (then by length), the order of sorted set members.</summary>
internal sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
