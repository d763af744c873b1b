using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.</summary>
internal static class MemoryCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("memory|usage", Usage);
        r.Add("memory|stats", Stats);
        r.Add("memory|doctor", c => c.Reply.WriteVerbatim(
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"u8));
        r.Add("memory|malloc-stats", c => c.Reply.WriteVerbatim("Stats not supported for the current allocator\n"u8));
        r.Add("memory|purge", c =>
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            c.Reply.WriteLiteral(Replies.Ok);
        });
        r.Add("memory|help", c => Help.Write(c,
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all)."));
    }

    /// <summary>Bytes a key costs: its entry in the slot table, the key and the value.</summary>
    internal static long KeyUsage(KeyRef entry) => KeyTable.EntrySize + MemorySize.Of(entry.Item);

    private static void Usage(CommandContext c)
    {
        if (c.ArgCount == 5 && c.ArgIs(3, "samples"u8))
        {
            if (!c.TryGetLong(4, out var samples))
            {
                return;
            }
            if (samples < 0)
            {
                c.SyntaxError();
                return;
            }
        }
        else if (c.ArgCount != 3)
        {
            c.SyntaxError();
            return;
        }
        if (!c.Db.TryGet(c.Arg(2), out var entry, LookupFlags.NoTouch | LookupFlags.NoStats))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        c.Reply.WriteInteger(KeyUsage(entry));
    }

    private static void Stats(CommandContext c)
    {
        var server = c.Server;
        var used = server.UsedMemory();
        var dataset = server.Keyspace.UsedMemory;
        var keys = server.Keyspace.KeyCount;
        var clients = server.ClientBufferBytes();
        var fields = new List<(string, object)>
        {
            ("peak.allocated", Math.Max(used, server.PeakMemory)),
            ("total.allocated", used),
            ("startup.allocated", server.BaselineMemory),
            ("replication.backlog", 0L),
            ("clients.slaves", 0L),
            ("clients.normal", clients),
            ("cluster.links", 0L),
            ("aof.buffer", 0L),
            ("lua.caches", 0L),
            ("functions.caches", 0L),
            ("overhead.total", server.BaselineMemory + clients),
            ("keys.count", keys),
            ("keys.bytes-per-key", keys == 0 ? 0L : dataset / keys),
            ("dataset.bytes", dataset),
            ("dataset.percentage", used == 0 ? 0.0 : dataset * 100.0 / used),
            ("peak.percentage", 100.0 * used / Math.Max(used, server.PeakMemory)),
            ("fragmentation", used == 0 ? 0.0 : (double)Environment.WorkingSet / used),
            ("fragmentation.bytes", Environment.WorkingSet - used),
        };
        var w = c.Reply;
        var dbs = server.Keyspace.Databases.Where(d => d.Count > 0).ToList();
        w.WriteMapHeader(fields.Count + dbs.Count);
        foreach (var (name, value) in fields)
        {
            w.WriteBulk(name);
            if (value is double d)
            {
                w.WriteDouble(d);
            }
            else
            {
                w.WriteInteger((long)value);
            }
        }
        foreach (var db in dbs)
        {
            w.WriteBulk("db." + db.Index);
            w.WriteMapHeader(2);
            w.WriteBulk("overhead.hashtable.main"u8);
            w.WriteInteger(db.Count * KeyTable.EntrySize);
            w.WriteBulk("overhead.hashtable.expires"u8);
            w.WriteInteger(0);
        }
    }
}
