using Tessera.Core.Commands;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>HyperLogLog commands (Redis's hyperloglog.c): the sketch is a string value in Redis's layout.</summary>
internal static class HyperLogLogCommands
{
    private const string NotHyperLogLog = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string Corrupt = "INVALIDOBJ Corrupted HLL object detected";

    public static void Register(CommandRegistry r)
    {
        r.Add("pfadd", Add);
        r.Add("pfcount", Count);
        r.Add("pfmerge", Merge);
        r.Add("pfdebug", Debug);
        r.Add("pfselftest", SelfTest);
    }

    private static long SparseMaxBytes(CommandContext c) => c.Server.Config.HllSparseMaxBytes.Value;

    /// <summary>
    /// Looks up <paramref name="key"/> as a HyperLogLog: true with <paramref name="found"/> false when missing;
    /// false after replying WRONGTYPE when it holds something else.
    /// </summary>
    private static bool TryLookup(CommandContext c, ReadOnlySpan<byte> key, LookupFlags flags, out KeyRef entry, out bool found)
    {
        found = c.Db.TryGet(key, out entry, flags);
        if (!found)
        {
            return true;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var bytes))
        {
            c.WrongType();
            return false;
        }
        if (!HyperLogLog.IsValid(bytes))
        {
            c.Error(NotHyperLogLog);
            return false;
        }
        return true;
    }

    private static void Add(CommandContext c)
    {
        var key = c.Arg(1);
        if (!TryLookup(c, key, LookupFlags.Write, out var entry, out var found))
        {
            return;
        }
        MutableString hll;
        var updated = 0;
        if (found)
        {
            hll = StringCommands.ToMutable(c.Db, entry);
        }
        else
        {
            hll = HyperLogLog.CreateSparse();
            c.Db.Add(key, hll);
            updated++;
        }
        var before = hll.MemoryBytes;
        for (var i = 2; i < c.ArgCount; i++)
        {
            var result = HyperLogLog.Add(hll, c.Arg(i), SparseMaxBytes(c));
            if (result < 0)
            {
                c.Db.AdjustMemory(hll.MemoryBytes - before);
                c.Error(Corrupt);
                return;
            }
            updated += result;
        }
        c.Db.AdjustMemory(hll.MemoryBytes - before);
        if (updated > 0)
        {
            HyperLogLog.InvalidateCache(hll.Writable);
            c.Modified(key, KeyspaceEvents.String, "pfadd"u8, updated);
        }
        c.Reply.WriteLiteral(updated > 0 ? Replies.One : Replies.Zero);
    }

    private static void Count(CommandContext c)
    {
        if (c.ArgCount > 2)
        {
            CountUnion(c);
            return;
        }
        var key = c.Arg(1);
        if (!TryLookup(c, key, LookupFlags.Read, out var entry, out var found))
        {
            return;
        }
        if (!found)
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        StringValue.TryGetBytes(entry.Item, out var bytes);
        if (HyperLogLog.TryGetCachedCount(bytes, out var count))
        {
            c.Reply.WriteInteger(count);
            return;
        }
        // Caching the estimate changes the string, as in Redis (and counts as a change to propagate).
        c.Db.BeforeValueChange(key);
        var hll = StringCommands.ToMutable(c.Db, entry);
        count = HyperLogLog.Count(hll.Span, out var invalid);
        if (invalid)
        {
            c.Error(Corrupt);
            return;
        }
        HyperLogLog.SetCachedCount(hll.Writable, count);
        c.SignalModified(key);
        c.Dirty();
        c.Reply.WriteInteger(count);
    }

    /// <summary>PFCOUNT over several keys: the estimate of their union, computed on one-byte registers.</summary>
    private static void CountUnion(CommandContext c)
    {
        Span<byte> max = stackalloc byte[HyperLogLog.Registers];
        max.Clear();
        if (MergeArguments(c, max, out _))
        {
            c.Reply.WriteInteger(HyperLogLog.CountRaw(max));
        }
    }

    /// <summary>
    /// Merges the HyperLogLogs named from argument 1 on into <paramref name="max"/>, missing keys counting as empty;
    /// false after replying an error. <paramref name="anyDense"/> tells whether one of them is dense.
    /// </summary>
    private static bool MergeArguments(CommandContext c, Span<byte> max, out bool anyDense)
    {
        anyDense = false;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (!TryLookup(c, c.Arg(i), LookupFlags.Read, out var entry, out var found))
            {
                return false;
            }
            if (!found)
            {
                continue;
            }
            StringValue.TryGetBytes(entry.Item, out var bytes);
            anyDense |= !HyperLogLog.IsSparse(bytes);
            if (!HyperLogLog.MergeInto(bytes, max))
            {
                c.Error(Corrupt);
                return false;
            }
        }
        return true;
    }

    private static void Merge(CommandContext c)
    {
        Span<byte> max = stackalloc byte[HyperLogLog.Registers];
        max.Clear();
        if (!MergeArguments(c, max, out var anyDense))
        {
            return;
        }
        var key = c.Arg(1);
        MutableString hll;
        if (c.Db.TryGet(key, out var entry, LookupFlags.Write))
        {
            hll = StringCommands.ToMutable(c.Db, entry);
        }
        else
        {
            hll = HyperLogLog.CreateSparse();
            c.Db.Add(key, hll);
        }
        var before = hll.MemoryBytes;
        // A dense input makes the result dense at once rather than after many sparse insertions.
        if (anyDense && !HyperLogLog.TryToDense(hll))
        {
            c.Error(Corrupt);
            return;
        }
        for (var i = 0; i < max.Length; i++)
        {
            if (max[i] != 0)
            {
                HyperLogLog.SetIfGreater(hll, i, max[i], SparseMaxBytes(c));
            }
        }
        HyperLogLog.InvalidateCache(hll.Writable);
        c.Db.AdjustMemory(hll.MemoryBytes - before);
        c.Modified(key, KeyspaceEvents.String, "pfadd"u8);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: the internals, for tests.</summary>
    private static void Debug(CommandContext c)
    {
        if (!TryLookup(c, c.Arg(2), LookupFlags.Write, out var entry, out var found))
        {
            return;
        }
        if (!found)
        {
            c.Error("ERR The specified key does not exist");
            return;
        }
        var subcommand = CommandReplies.Truncated(c.Arg(1), int.MaxValue);
        if (c.ArgCount != 3 && (c.ArgIs(1, "getreg"u8) || c.ArgIs(1, "decode"u8) || c.ArgIs(1, "encoding"u8) || c.ArgIs(1, "todense"u8)))
        {
            c.Error($"ERR Wrong number of arguments for the '{subcommand}' subcommand");
            return;
        }
        var hll = StringCommands.ToMutable(c.Db, entry);
        var before = hll.MemoryBytes;
        if (c.ArgIs(1, "getreg"u8) || c.ArgIs(1, "todense"u8))
        {
            var converted = HyperLogLog.IsSparse(hll.Span);
            if (converted)
            {
                if (!HyperLogLog.TryToDense(hll))
                {
                    c.Error(Corrupt);
                    return;
                }
                c.Db.AdjustMemory(hll.MemoryBytes - before);
                c.SignalModified(c.Arg(2));
                c.Dirty();
            }
            if (c.ArgIs(1, "todense"u8))
            {
                c.Reply.WriteLiteral(converted ? Replies.One : Replies.Zero);
                return;
            }
            var registers = hll.Span[HyperLogLog.HeaderSize..];
            c.Reply.WriteArrayHeader(HyperLogLog.Registers);
            for (var i = 0; i < HyperLogLog.Registers; i++)
            {
                c.Reply.WriteInteger(HyperLogLog.DenseGet(registers, i));
            }
        }
        else if (c.ArgIs(1, "decode"u8))
        {
            if (!HyperLogLog.IsSparse(hll.Span))
            {
                c.Error("ERR HLL encoding is not sparse");
                return;
            }
            c.Reply.WriteBulk(HyperLogLog.Decode(hll.Span));
        }
        else if (c.ArgIs(1, "encoding"u8))
        {
            c.Reply.WriteSimpleString(HyperLogLog.IsSparse(hll.Span) ? "sparse"u8 : "dense"u8);
        }
        else
        {
            c.Error($"ERR Unknown PFDEBUG subcommand '{subcommand}'");
        }
    }

    /// <summary>
    /// PFSELFTEST: dense registers read back what was written without touching neighbours, and a sparse and a
    /// dense sketch fed the same elements agree on every register and estimate.
    /// </summary>
    private static void SelfTest(CommandContext c)
    {
        var random = new Random(12345);
        var registers = new byte[HyperLogLog.DenseSize - HyperLogLog.HeaderSize];
        var expected = new byte[HyperLogLog.Registers];
        for (var round = 0; round < 100; round++)
        {
            for (var i = 0; i < HyperLogLog.Registers; i++)
            {
                expected[i] = (byte)random.Next(64);
                HyperLogLog.DenseSet(registers, i, expected[i]);
            }
            for (var i = 0; i < HyperLogLog.Registers; i++)
            {
                if (HyperLogLog.DenseGet(registers, i) != expected[i])
                {
                    c.Error($"TESTFAILED Register {i} should be {expected[i]} but is {HyperLogLog.DenseGet(registers, i)}");
                    return;
                }
            }
        }
        var sparse = HyperLogLog.CreateSparse();
        var dense = HyperLogLog.CreateSparse();
        HyperLogLog.TryToDense(dense);
        Span<byte> element = stackalloc byte[8];
        for (var i = 0; i < 20000; i++)
        {
            BitConverter.TryWriteBytes(element, random.NextInt64());
            HyperLogLog.Add(sparse, element, long.MaxValue);
            HyperLogLog.Add(dense, element, long.MaxValue);
            if (i % 1000 == 999 && HyperLogLog.Count(sparse.Span, out _) != HyperLogLog.Count(dense.Span, out _))
            {
                c.Error($"TESTFAILED sparse and dense estimates differ after {i + 1} elements");
                return;
            }
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }
}
