using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>Sorted set commands (Redis's t_zset.c): adding, scoring, ranking, removing, popping, sampling.</summary>
internal static partial class SortedSetCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("zadd", c => Add(c, ZAddFlags.None, incrOnly: false));
        r.Add("zincrby", c => Add(c, ZAddFlags.Incr, incrOnly: true));
        r.Add("zscore", Score);
        r.Add("zmscore", MultiScore);
        r.Add("zcard", c =>
        {
            if (c.TryGet(c.Arg(1), out SortedSetValue? z))
            {
                c.Reply.WriteInteger(z?.Count ?? 0);
            }
        });
        r.Add("zcount", CountByScore);
        r.Add("zlexcount", CountByLex);
        r.Add("zrank", c => Rank(c, reverse: false));
        r.Add("zrevrank", c => Rank(c, reverse: true));
        r.Add("zrem", Remove);
        r.Add("zremrangebyrank", RemoveRangeByRank);
        r.Add("zremrangebyscore", RemoveRangeByScore);
        r.Add("zremrangebylex", RemoveRangeByLex);
        r.Add("zpopmin", c => Pop(c, max: false));
        r.Add("zpopmax", c => Pop(c, max: true));
        r.Add("zmpop", c => MultiPop(c, 1));
        r.Add("bzpopmin", c => BlockingPop(c, max: false));
        r.Add("bzpopmax", c => BlockingPop(c, max: true));
        r.Add("bzmpop", c =>
        {
            if (BlockingTimeout.TryParse(c, 1, out var deadline))
            {
                MultiPop(c, 2, deadline);
            }
        });
        r.Add("zrandmember", RandomMember);
        r.Add("zscan", Scan);
        RegisterRanges(r);
        RegisterAlgebra(r);
    }

    private static SortedSetValue NewCompact() => new();

    /// <summary>Writes one member with its score: flat in RESP2, a [member, score] pair in RESP3 when <paramref name="nested"/>.</summary>
    internal static void WriteScored(RespWriter w, byte[] member, double score, bool nested)
    {
        if (nested && w.Protocol == 3)
        {
            w.WriteArrayHeader(2);
        }
        w.WriteBulk(member);
        w.WriteDouble(score);
    }

    /// <summary>The header for <paramref name="count"/> elements, with scores doubling a RESP2 array.</summary>
    internal static void WriteScoredHeader(RespWriter w, long count, bool withScores)
        => w.WriteArrayHeader(withScores && w.Protocol == 2 ? count * 2 : count);

    internal static void Add(CommandContext c, ZAddFlags flags, bool incrOnly)
    {
        var ch = false;
        var scoreIndex = 2;
        while (!incrOnly && scoreIndex < c.ArgCount)
        {
            if (c.ArgIs(scoreIndex, "nx"u8))
            {
                flags |= ZAddFlags.Nx;
            }
            else if (c.ArgIs(scoreIndex, "xx"u8))
            {
                flags |= ZAddFlags.Xx;
            }
            else if (c.ArgIs(scoreIndex, "ch"u8))
            {
                ch = true;
            }
            else if (c.ArgIs(scoreIndex, "incr"u8))
            {
                flags |= ZAddFlags.Incr;
            }
            else if (c.ArgIs(scoreIndex, "gt"u8))
            {
                flags |= ZAddFlags.Gt;
            }
            else if (c.ArgIs(scoreIndex, "lt"u8))
            {
                flags |= ZAddFlags.Lt;
            }
            else
            {
                break;
            }
            scoreIndex++;
        }
        var elements = c.ArgCount - scoreIndex;
        if (elements % 2 != 0 || elements == 0)
        {
            c.SyntaxError();
            return;
        }
        elements /= 2;
        var nx = (flags & ZAddFlags.Nx) != 0;
        if (nx && (flags & ZAddFlags.Xx) != 0)
        {
            c.Error("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((nx && (flags & (ZAddFlags.Gt | ZAddFlags.Lt)) != 0) || (flags & (ZAddFlags.Gt | ZAddFlags.Lt)) == (ZAddFlags.Gt | ZAddFlags.Lt))
        {
            c.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        var incr = (flags & ZAddFlags.Incr) != 0;
        if (incr && elements > 1)
        {
            c.Error("ERR INCR option supports a single increment-element pair");
            return;
        }
        var scores = new double[elements];
        for (var j = 0; j < elements; j++)
        {
            if (!RedisDouble.TryParse(c.Arg(scoreIndex + (j * 2)), out scores[j]))
            {
                c.Error(Replies.NotFloat);
                return;
            }
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out SortedSetValue? zset, LookupFlags.Write))
        {
            return;
        }
        var config = c.Server.Config;
        long added = 0;
        long updated = 0;
        long processed = 0;
        double score = 0;
        if (zset is null && (flags & ZAddFlags.Xx) == 0)
        {
            zset = NewCompact();
            c.Db.Add(key, zset);
        }
        if (zset is not null)
        {
            var before = zset.MemoryBytes;
            for (var j = 0; j < elements; j++)
            {
                var result = zset.Add(scores[j], c.Arg(scoreIndex + (j * 2) + 1), flags,
                    config.ZsetMaxListpackEntries.Value, config.ZsetMaxListpackValue.Value, out score);
                if (result == ZAddResult.NotANumber)
                {
                    ReportAdded(c, key, zset, before, added + updated, incr);
                    c.Error("ERR resulting score is not a number (NaN)");
                    return;
                }
                added += result == ZAddResult.Added ? 1 : 0;
                updated += result == ZAddResult.Updated ? 1 : 0;
                processed += result != ZAddResult.Skipped ? 1 : 0;
            }
            ReportAdded(c, key, zset, before, added + updated, incr);
        }
        if (incr)
        {
            if (processed > 0)
            {
                c.Reply.WriteDouble(score);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
            return;
        }
        c.Reply.WriteInteger(ch ? added + updated : added);
    }

    /// <summary>ZADD's notification ("zadd", or "zincr" with INCR), only when an element was added or updated.</summary>
    private static void ReportAdded(CommandContext c, ReadOnlySpan<byte> key, SortedSetValue zset, long before, long changes, bool incr)
    {
        if (changes > 0)
        {
            c.Changed(key, zset, before, KeyspaceEvents.ZSet, incr ? "zincr"u8 : "zadd"u8, changes);
        }
        else if (zset.IsEmpty)
        {
            c.Db.Delete(key);
        }
    }

    private static void Score(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        if (zset is not null && zset.TryGetScore(c.Arg(2), out var score))
        {
            c.Reply.WriteDouble(score);
        }
        else
        {
            c.Reply.WriteNullBulk();
        }
    }

    private static void MultiScore(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (zset is not null && zset.TryGetScore(c.Arg(i), out var score))
            {
                c.Reply.WriteDouble(score);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
        }
    }

    private static void CountByScore(CommandContext c)
    {
        if (!ScoreRange.TryParse(c.Arg(2), c.Arg(3), out var range))
        {
            c.Error("ERR min or max is not a float");
            return;
        }
        if (c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            c.Reply.WriteInteger(zset is null || range.IsEmpty ? 0 : Math.Max(0, zset.EndRankAtOrBelow(range) - zset.FirstRankAtOrAbove(range)));
        }
    }

    private static void CountByLex(CommandContext c)
    {
        if (!LexRange.TryParse(c.Arg(2), c.Arg(3), out var range))
        {
            c.Error("ERR min or max not valid string range item");
            return;
        }
        if (c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            var (start, end) = zset is null || range.IsEmpty ? (0, 0) : zset.LexSpan(range, reverse: false);
            c.Reply.WriteInteger(Math.Max(0, end - start));
        }
    }

    /// <summary>ZRANK/ZREVRANK key member [WITHSCORE] (WITHSCORE as Redis 7.2 added it).</summary>
    private static void Rank(CommandContext c, bool reverse)
    {
        if (c.ArgCount > 4)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        var withScore = c.ArgCount == 4;
        if (withScore && !c.ArgIs(3, "withscore"u8))
        {
            c.SyntaxError();
            return;
        }
        if (!c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        var rank = zset?.RankOf(c.Arg(2)) ?? -1;
        if (rank < 0)
        {
            if (withScore)
            {
                c.Reply.WriteNullArray();
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
            return;
        }
        if (withScore)
        {
            c.Reply.WriteArrayHeader(2);
        }
        c.Reply.WriteInteger(reverse ? zset!.Count - 1 - rank : rank);
        if (withScore)
        {
            zset!.TryGetScore(c.Arg(2), out var score);
            c.Reply.WriteDouble(score);
        }
    }

    private static void Remove(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out SortedSetValue? zset, LookupFlags.Write))
        {
            return;
        }
        long removed = 0;
        if (zset is not null)
        {
            var before = zset.MemoryBytes;
            for (var i = 2; i < c.ArgCount && !zset.IsEmpty; i++)
            {
                if (zset.Remove(c.Arg(i)))
                {
                    removed++;
                }
            }
            if (removed > 0)
            {
                c.Changed(key, zset, before, KeyspaceEvents.ZSet, "zrem"u8, removed);
            }
        }
        c.Reply.WriteInteger(removed);
    }

    /// <summary>Removes ranks [start, end) of the set at the key, replying the count (ZREMRANGEBY*).</summary>
    private static void RemoveRanks(CommandContext c, SortedSetValue? zset, Func<SortedSetValue, (long Start, long End)> bounds)
    {
        if (zset is null)
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var (start, end) = bounds(zset);
        var before = zset.MemoryBytes;
        var removed = end > start ? zset.RemoveRange(start, end).Count : 0;
        if (removed > 0)
        {
            // The event is the command's name: zremrangebyrank, zremrangebyscore, zremrangebylex.
            c.Changed(c.Arg(1), zset, before, KeyspaceEvents.ZSet, c.Command.Info.FullNameBytes, removed);
        }
        c.Reply.WriteInteger(removed);
    }

    private static void RemoveRangeByRank(CommandContext c)
    {
        if (!c.TryGetLong(2, out var start) || !c.TryGetLong(3, out var end) || !c.TryGet(c.Arg(1), out SortedSetValue? zset, LookupFlags.Write))
        {
            return;
        }
        RemoveRanks(c, zset, z =>
        {
            var length = z.Count;
            var s = start < 0 ? Math.Max(0, length + start) : start;
            var e = end < 0 ? length + end : end;
            return s > e || s >= length ? (0, 0) : (s, Math.Min(e, length - 1) + 1);
        });
    }

    private static void RemoveRangeByScore(CommandContext c)
    {
        if (!ScoreRange.TryParse(c.Arg(2), c.Arg(3), out var range))
        {
            c.Error("ERR min or max is not a float");
            return;
        }
        if (c.TryGet(c.Arg(1), out SortedSetValue? zset, LookupFlags.Write))
        {
            RemoveRanks(c, zset, z => range.IsEmpty ? (0, 0) : (z.FirstRankAtOrAbove(range), z.EndRankAtOrBelow(range)));
        }
    }

    private static void RemoveRangeByLex(CommandContext c)
    {
        if (!LexRange.TryParse(c.Arg(2), c.Arg(3), out var range))
        {
            c.Error("ERR min or max not valid string range item");
            return;
        }
        if (c.TryGet(c.Arg(1), out SortedSetValue? zset, LookupFlags.Write))
        {
            RemoveRanks(c, zset, z => range.IsEmpty ? (0, 0) : z.LexSpan(range, reverse: false));
        }
    }

    private static void Scan(CommandContext c)
    {
        if (!ScanOptions.TryParse(c, 2, allowType: false, out var options) || !c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        var found = new List<(byte[] Member, double Score)>();
        var next = zset?.Scan(options.Cursor, options.Count, found) ?? 0;
        var kept = found.Where(e => options.Matches(c, e.Member)).ToList();
        ScanOptions.WriteCursor(c, next, kept.Count * 2);
        Span<byte> text = stackalloc byte[RedisDouble.MaxLength];
        foreach (var (member, score) in kept)
        {
            c.Reply.WriteBulk(member);
            c.Reply.WriteBulk(text[..RedisDouble.Format(score, text)]);
        }
    }
}
