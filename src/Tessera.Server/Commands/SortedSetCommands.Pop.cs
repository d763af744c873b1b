using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

// The popping commands (ZPOPMIN/ZPOPMAX, ZMPOP and their blocking forms) and ZRANDMEMBER.
internal static partial class SortedSetCommands
{
    /// <summary>Pops up to <paramref name="count"/> lowest (or highest) elements of the set at <paramref name="key"/>.</summary>
    internal static List<(byte[] Member, double Score)> PopFrom(CommandContext c, ReadOnlySpan<byte> key, SortedSetValue zset, long count, bool max)
    {
        var before = zset.MemoryBytes;
        var take = (int)Math.Min(count, zset.Count);
        var popped = zset.Walk(max ? zset.Count - 1 : 0, reverse: max).Take(take).ToList();
        foreach (var (member, _) in popped)
        {
            zset.Remove(member);
        }
        if (popped.Count > 0)
        {
            c.Changed(key, zset, before, KeyspaceEvents.ZSet, max ? "zpopmax"u8 : "zpopmin"u8, popped.Count);
            if (c.Propagating)
            {
                // ZMPOP and the blocking pops name the key they took from, as ZPOPMIN/ZPOPMAX do.
                c.PropagateAs(max ? "ZPOPMAX"u8.ToArray() : "ZPOPMIN"u8.ToArray(), key.ToArray(), CommandContext.Number(popped.Count));
            }
        }
        return popped;
    }

    private static void Pop(CommandContext c, bool max)
    {
        long count = 1;
        if (c.ArgCount > 3)
        {
            c.SyntaxError();
            return;
        }
        if (c.ArgCount == 3 && (!RedisInteger.TryParse(c.Arg(2), out count) || count < 0))
        {
            c.Error("ERR value is out of range, must be positive");
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out SortedSetValue? zset, LookupFlags.Write))
        {
            return;
        }
        if (zset is null || count == 0)
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
            return;
        }
        var popped = PopFrom(c, key, zset, count, max);
        // With a count RESP3 nests [member, score] pairs; without one the reply is flat in both protocols.
        var nested = c.ArgCount == 3;
        c.Reply.WriteArrayHeader(nested && c.Reply.Protocol == 3 ? popped.Count : popped.Count * 2);
        foreach (var (member, score) in popped)
        {
            WriteScored(c.Reply, member, score, nested);
        }
    }

    /// <summary>[B]ZMPOP from the argument at <paramref name="at"/> (numkeys); blocks when given a deadline (0: none).</summary>
    private static void MultiPop(CommandContext c, int at, long deadlineMs = -1)
    {
        if (!MultiPopOptions.TryParse(c, at, "min"u8, "max"u8, out var keys, out var max, out var count))
        {
            return;
        }
        if (!c.TryGetFirst(at + 1, keys, out var index, out SortedSetValue? zset))
        {
            return;
        }
        if (zset is not null)
        {
            WriteMultiPop(c, c.Arg(index), PopFrom(c, c.Arg(index), zset, count, max));
            return;
        }
        if (deadlineMs < 0)
        {
            c.Reply.WriteNullArray();
            return;
        }
        c.Block<SortedSetValue>(c.CopyArgs(at + 1, keys), deadlineMs);
    }

    /// <summary>BZPOPMIN/BZPOPMAX key... timeout: [key, member, score] from the first non-empty set, or wait.</summary>
    private static void BlockingPop(CommandContext c, bool max)
    {
        var keys = c.ArgCount - 2;
        if (!BlockingTimeout.TryParse(c, c.ArgCount - 1, out var deadline))
        {
            return;
        }
        if (!c.TryGetFirst(1, keys, out var index, out SortedSetValue? zset))
        {
            return;
        }
        if (zset is not null)
        {
            var (member, score) = PopFrom(c, c.Arg(index), zset, 1, max)[0];
            c.Reply.WriteArrayHeader(3);
            c.Reply.WriteBulk(c.Arg(index));
            WriteScored(c.Reply, member, score, nested: false);
            return;
        }
        c.Block<SortedSetValue>(c.CopyArgs(1, keys), deadline);
    }

    /// <summary>ZMPOP's reply: [key, [[member, score] ...]].</summary>
    internal static void WriteMultiPop(CommandContext c, ReadOnlySpan<byte> key, List<(byte[] Member, double Score)> popped)
    {
        var w = c.Reply;
        w.WriteArrayHeader(2);
        w.WriteBulk(key);
        w.WriteArrayHeader(popped.Count);
        foreach (var (member, score) in popped)
        {
            w.WriteArrayHeader(2);
            w.WriteBulk(member);
            w.WriteDouble(score);
        }
    }

    private static void RandomMember(CommandContext c)
    {
        if (c.ArgCount == 2)
        {
            RandomSample.ReplyOne<SortedSetValue>(c, static (zset, random) => zset.At(random.NextInt64(zset.Count)).Member);
            return;
        }
        if (!RandomSample.TryParseCountAndPairs(c, "withscores"u8, out var requested, out var withScores) || !c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        if (zset is null || requested == 0)
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
            return;
        }
        if (requested < 0)
        {
            // Drawn with repetition and written as drawn: the reply, not a list, holds the elements.
            WriteScoredHeader(c.Reply, -requested, withScores);
            for (var i = requested; i < 0 && !c.ReplyLimitReached(); i++)
            {
                WriteRandomMember(c.Reply, zset, zset.RandomPosition(c.Keyspace.Random), withScores);
            }
            return;
        }
        if (requested >= zset.Count)
        {
            // Asked for at least the whole set, Redis returns it from the highest score down.
            WriteScoredHeader(c.Reply, zset.Count, withScores);
            for (var rank = zset.Count - 1; rank >= 0; rank--)
            {
                WriteRandomMember(c.Reply, zset, rank, withScores);
            }
            return;
        }
        var picks = RandomSample.Distinct(zset, requested, c.Keyspace.Random);
        WriteScoredHeader(c.Reply, picks.Count, withScores);
        foreach (var rank in picks)
        {
            WriteRandomMember(c.Reply, zset, rank, withScores);
        }
    }

    private static void WriteRandomMember(RespWriter w, SortedSetValue zset, long rank, bool withScores)
    {
        var (member, score) = zset.At(rank);
        if (withScores)
        {
            WriteScored(w, member, score, nested: true);
        }
        else
        {
            w.WriteBulk(member);
        }
    }
}
