using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>Set commands (Redis's t_set.c).</summary>
internal static class SetCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("sadd", Add);
        r.Add("srem", Remove);
        r.Add("smembers", c => Intersect(c, 1, 2, store: -1, cardinalityOnly: false, limit: 0));
        r.Add("sismember", IsMember);
        r.Add("smismember", IsMemberMany);
        r.Add("scard", c =>
        {
            if (c.TryGet(c.Arg(1), out SetValue? set))
            {
                c.Reply.WriteInteger(set?.Count ?? 0);
            }
        });
        r.Add("spop", Pop);
        r.Add("srandmember", RandomMember);
        r.Add("smove", Move);
        r.Add("sinter", c => Intersect(c, 1, c.ArgCount, store: -1, cardinalityOnly: false, limit: 0));
        r.Add("sinterstore", c => Intersect(c, 2, c.ArgCount, store: 1, cardinalityOnly: false, limit: 0));
        r.Add("sintercard", InterCard);
        r.Add("sunion", c => Combine(c, 1, c.ArgCount, Operation.Union, store: -1));
        r.Add("sunionstore", c => Combine(c, 2, c.ArgCount, Operation.Union, store: 1));
        r.Add("sdiff", c => Combine(c, 1, c.ArgCount, Operation.Difference, store: -1));
        r.Add("sdiffstore", c => Combine(c, 2, c.ArgCount, Operation.Difference, store: 1));
        r.Add("sscan", Scan);
    }

    private enum Operation
    {
        Union,
        Difference,
    }

    private static long MaxIntset(CommandContext c) => c.Server.Config.SetMaxIntsetEntries.Value;

    private static void Add(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out SetValue? set, LookupFlags.Write))
        {
            return;
        }
        if (set is null)
        {
            set = SetValue.CreateFor(c.Arg(2));
            c.Db.Add(key, set);
        }
        var before = set.MemoryBytes;
        long added = 0;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (set.Add(c.Arg(i), MaxIntset(c)))
            {
                added++;
            }
        }
        if (added > 0)
        {
            c.Changed(key, set, before, KeyspaceEvents.Set, "sadd"u8, added);
        }
        c.Reply.WriteInteger(added);
    }

    private static void Remove(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out SetValue? set, LookupFlags.Write))
        {
            return;
        }
        long removed = 0;
        if (set is not null)
        {
            var before = set.MemoryBytes;
            for (var i = 2; i < c.ArgCount && !set.IsEmpty; i++)
            {
                if (set.Remove(c.Arg(i)))
                {
                    removed++;
                }
            }
            if (removed > 0)
            {
                c.Changed(key, set, before, KeyspaceEvents.Set, "srem"u8, removed);
            }
        }
        c.Reply.WriteInteger(removed);
    }

    private static void IsMember(CommandContext c)
    {
        if (c.TryGet(c.Arg(1), out SetValue? set))
        {
            c.Reply.WriteLiteral(set is not null && set.Contains(c.Arg(2)) ? Replies.One : Replies.Zero);
        }
    }

    private static void IsMemberMany(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out SetValue? set))
        {
            return;
        }
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            c.Reply.WriteLiteral(set is not null && set.Contains(c.Arg(i)) ? Replies.One : Replies.Zero);
        }
    }

    private static void Pop(CommandContext c)
    {
        var key = c.Arg(1);
        if (c.ArgCount == 2)
        {
            if (!c.TryGet(key, out SetValue? single, LookupFlags.Write))
            {
                return;
            }
            if (single is null)
            {
                c.Reply.WriteNullBulk();
                return;
            }
            var before = single.MemoryBytes;
            var member = single.Random(c.Keyspace.Random);
            single.Remove(member);
            c.Reply.WriteBulk(member);
            c.Changed(key, single, before, KeyspaceEvents.Set, "spop"u8);
            if (c.Propagating)
            {
                // The member chosen at random, so a replay removes the same one.
                c.PropagateAs("SREM"u8.ToArray(), key.ToArray(), member.ToArray());
            }
            return;
        }
        if (c.ArgCount > 3)
        {
            c.SyntaxError();
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(2), out var count) || count < 0)
        {
            c.Error("ERR value is out of range, must be positive");
            return;
        }
        if (!c.TryGet(key, out SetValue? set, LookupFlags.Write))
        {
            return;
        }
        if (set is null || count == 0)
        {
            c.Reply.WriteSetHeader(0);
            return;
        }
        var bytesBefore = set.MemoryBytes;
        List<byte[]> popped;
        if (count >= set.Count)
        {
            popped = set.Members();
        }
        else
        {
            popped = [.. RandomSample.Distinct(set, count, c.Keyspace.Random).Select(set.MemberAt)];
        }
        foreach (var member in popped)
        {
            set.Remove(member);
        }
        c.Reply.WriteSetHeader(popped.Count);
        foreach (var member in popped)
        {
            c.Reply.WriteBulk(member);
        }
        c.Changed(key, set, bytesBefore, KeyspaceEvents.Set, "spop"u8, count);
        if (c.Propagating)
        {
            c.PropagateAs([set.IsEmpty ? "DEL"u8.ToArray() : "SREM"u8.ToArray(), key.ToArray(), .. set.IsEmpty ? [] : popped]);
        }
    }

    private static void RandomMember(CommandContext c)
    {
        if (c.ArgCount == 2)
        {
            RandomSample.ReplyOne<SetValue>(c, static (set, random) => set.Random(random));
            return;
        }
        if (c.ArgCount > 3)
        {
            c.SyntaxError();
            return;
        }
        if (!RandomSample.TryParseCount(c, 2, pairs: false, out var requested) || !c.TryGet(c.Arg(1), out SetValue? set))
        {
            return;
        }
        if (set is null || requested == 0)
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
            return;
        }
        var w = c.Reply;
        if (requested < 0)
        {
            // Drawn with repetition and written as drawn: the reply, not a list, holds the elements.
            w.WriteArrayHeader(-requested);
            for (var i = requested; i < 0 && !c.ReplyLimitReached(); i++)
            {
                set.WriteMemberAt(w, set.RandomPosition(c.Keyspace.Random));
            }
            return;
        }
        if (requested >= set.Count)
        {
            w.WriteArrayHeader(set.Count);
            foreach (var member in set.Members())
            {
                w.WriteBulk(member);
            }
            return;
        }
        var picks = RandomSample.Distinct(set, requested, c.Keyspace.Random);
        w.WriteArrayHeader(picks.Count);
        foreach (var position in picks)
        {
            set.WriteMemberAt(w, position);
        }
    }

    private static void Move(CommandContext c)
    {
        var source = c.Arg(1);
        var destination = c.Arg(2);
        var member = c.Arg(3);
        if (!c.TryGet(source, out SetValue? from, LookupFlags.Write))
        {
            return;
        }
        if (from is null)
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        if (!c.TryGet(destination, out SetValue? to, LookupFlags.Write))
        {
            return;
        }
        if (from == to)
        {
            c.Reply.WriteLiteral(from.Contains(member) ? Replies.One : Replies.Zero);
            return;
        }
        var fromBefore = from.MemoryBytes;
        if (!from.Remove(member))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        c.Changed(source, from, fromBefore, KeyspaceEvents.Set, "srem"u8);
        if (to is null)
        {
            to = SetValue.CreateFor(member);
            c.Db.Add(destination, to);
        }
        var toBefore = to.MemoryBytes;
        if (to.Add(member, MaxIntset(c)))
        {
            c.Changed(destination, to, toBefore, KeyspaceEvents.Set, "sadd"u8);
        }
        c.Reply.WriteLiteral(Replies.One);
    }

    /// <summary>
    /// The sets at arguments [<paramref name="first"/>, <paramref name="end"/>): a missing key is null (an empty
    /// set). False after replying WRONGTYPE.
    /// </summary>
    private static bool TryGetSets(CommandContext c, int first, int end, out List<SetValue?> sets)
    {
        sets = new List<SetValue?>(end - first);
        for (var i = first; i < end; i++)
        {
            if (!c.TryGet(c.Arg(i), out SetValue? set))
            {
                return false;
            }
            sets.Add(set);
        }
        return true;
    }

    /// <summary>SINTER, SINTERSTORE, SINTERCARD (Redis's sinterGenericCommand): walk the smallest set, keep what all contain.</summary>
    private static void Intersect(CommandContext c, int first, int end, int store, bool cardinalityOnly, long limit)
    {
        if (!TryGetSets(c, first, end, out var sets))
        {
            return;
        }
        var result = new List<byte[]>();
        if (!sets.Contains(null))
        {
            var ordered = sets.Select(s => s!).OrderBy(s => s.Count).ToList();
            foreach (var member in ordered[0].Members())
            {
                var inAll = true;
                for (var j = 1; j < ordered.Count && inAll; j++)
                {
                    inAll = ordered[j] == ordered[0] || ordered[j].Contains(member);
                }
                if (inAll)
                {
                    result.Add(member);
                    if (cardinalityOnly && limit > 0 && result.Count >= limit)
                    {
                        break;
                    }
                }
            }
        }
        if (cardinalityOnly)
        {
            c.Reply.WriteInteger(result.Count);
            return;
        }
        Finish(c, result, store);
    }

    private static void InterCard(CommandContext c)
    {
        if (!RedisInteger.TryParse(c.Arg(1), out var keys) || keys < 1)
        {
            c.Error("ERR numkeys should be greater than 0");
            return;
        }
        if (keys > c.ArgCount - 2)
        {
            c.Error("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (var i = 2 + (int)keys; i < c.ArgCount; i++)
        {
            if (c.ArgIs(i, "limit"u8) && i < c.ArgCount - 1)
            {
                i++;
                if (!RedisInteger.TryParse(c.Arg(i), out limit) || limit < 0)
                {
                    c.Error("ERR LIMIT can't be negative");
                    return;
                }
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        Intersect(c, 2, 2 + (int)keys, store: -1, cardinalityOnly: true, limit);
    }

    /// <summary>SUNION, SDIFF and their STORE forms (Redis's sunionDiffGenericCommand), built into an intset-first set.</summary>
    private static void Combine(CommandContext c, int first, int end, Operation operation, int store)
    {
        if (!TryGetSets(c, first, end, out var sets))
        {
            return;
        }
        var combined = SetValue.CreateIntset();
        var maxIntset = MaxIntset(c);
        if (operation == Operation.Union)
        {
            foreach (var set in sets)
            {
                foreach (var member in set?.Members() ?? [])
                {
                    combined.Add(member, maxIntset);
                }
            }
        }
        else if (sets[0] is { } head && !sets.Skip(1).Any(s => s == head))
        {
            foreach (var member in head.Members())
            {
                if (!sets.Skip(1).Any(s => s is not null && s.Contains(member)))
                {
                    combined.Add(member, maxIntset);
                }
            }
        }
        Finish(c, combined.Members(), store, combined);
    }

    /// <summary>Replies with the members, or stores them at argument <paramref name="store"/> and replies their count.</summary>
    private static void Finish(CommandContext c, List<byte[]> members, int store, SetValue? built = null)
    {
        if (store < 0)
        {
            c.Reply.WriteSetHeader(members.Count);
            foreach (var member in members)
            {
                c.Reply.WriteBulk(member);
            }
            return;
        }
        var destination = c.Arg(store);
        if (members.Count == 0)
        {
            if (c.Db.Delete(destination))
            {
                c.Modified(destination, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        if (built is null)
        {
            built = SetValue.CreateIntset();
            foreach (var member in members)
            {
                built.Add(member, MaxIntset(c));
            }
        }
        c.Db.Set(destination, built);
        // The store commands' event is their name: sinterstore, sunionstore, sdiffstore.
        c.Modified(destination, KeyspaceEvents.Set, c.Command.Info.FullNameBytes);
        c.Reply.WriteInteger(built.Count);
    }

    private static void Scan(CommandContext c)
    {
        if (!ScanOptions.TryParse(c, 2, allowType: false, out var options) || !c.TryGet(c.Arg(1), out SetValue? set))
        {
            return;
        }
        var found = new List<byte[]>();
        var next = set?.Scan(options.Cursor, options.Count, found) ?? 0;
        var kept = found.Where(m => options.Matches(c, m)).ToList();
        ScanOptions.WriteCursor(c, next, kept.Count);
        foreach (var member in kept)
        {
            c.Reply.WriteBulk(member);
        }
    }
}
