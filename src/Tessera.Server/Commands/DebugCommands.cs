using System.Globalization;
using System.Numerics;
using System.Text;
using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Persistence;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>
/// DEBUG (refused unless <c>enable-debug-command</c> allows it, checked by the pipeline): Redis's debug.c
/// subcommands that tests and tools use, each with the argument count Redis accepts. The ones that exist to crash
/// or restart the process (SEGFAULT, PANIC, ASSERT, OOM, RESTART, CRASH-AND-RECOVER) answer an error instead: no
/// request takes a Tessera node down.
/// </summary>
internal static class DebugCommands
{
    private sealed record Subcommand(Func<int, bool> Arity, CommandHandler Run);

    private static readonly Dictionary<string, Subcommand> Subcommands = new(StringComparer.OrdinalIgnoreCase)
    {
        ["help"] = new(n => n == 2, DebugHelp),
        ["sleep"] = new(n => n == 3, Sleep),
        ["set-active-expire"] = new(n => n == 3, c => Switch(c, on => c.Keyspace.ActiveExpireEnabled = on)),
        ["set-skip-checksum-validation"] = new(n => n == 3, c => Switch(c, on => c.Server.Debug.SkipChecksumValidation = on)),
        ["set-disable-deny-scripts"] = new(n => n == 3, c => Switch(c, on => c.Server.Debug.AllowNoScriptCommands = on)),
        ["pause-cron"] = new(n => n == 3, c => Switch(c, on => c.Server.Debug.PauseCron = on)),
        ["aof-flush-sleep"] = new(n => n == 3, c =>
        {
            c.Server.Debug.AofFlushSleepMicroseconds = Math.Max(0, (int)Atoi(c.Arg(2)));
            c.Reply.WriteLiteral(Replies.Ok);
        }),
        ["quicklist-packed-threshold"] = new(n => n == 3, QuicklistPackedThreshold),
        ["replybuffer"] = new(n => n == 4, ReplyBuffer),
        ["object"] = new(n => n == 3, DebugObject),
        ["listpack"] = new(n => n == 3, c => EncodedStructure(c, "listpack", "Listpack structure printed on stdout", "Not a listpack encoded object.")),
        ["quicklist"] = new(n => n is 3 or 4, c => EncodedStructure(c, "quicklist", "Quicklist structure printed on stdout", "Not a quicklist encoded object.")),
        ["populate"] = new(n => n is >= 3 and <= 5, Populate),
        ["reload"] = new(_ => true, Reload),
        ["loadaof"] = new(_ => true, LoadAof),
        ["digest"] = new(n => n == 2, c => c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(DatasetDigest.Of(c.Keyspace)))),
        ["digest-value"] = new(n => n >= 2, DigestValue),
        ["protocol"] = new(n => n == 3, Protocol),
        ["log"] = new(n => n == 3, c =>
        {
            c.Server.Log.DebugLog("DEBUG LOG: " + Encoding.Latin1.GetString(c.Arg(2)));
            c.Reply.WriteLiteral(Replies.Ok);
        }),
        ["error"] = new(n => n == 3, c => c.Error(Encoding.Latin1.GetString(c.Arg(2)).Replace('\n', ' ').Replace('\r', ' '))),
        ["change-repl-id"] = new(n => n == 2, c =>
        {
            c.Server.Log.ReplicationIdChanged();
            c.Server.Replication.ChangeReplicationId();
            c.Reply.WriteLiteral(Replies.Ok);
        }),
        ["replicate"] = new(n => n >= 3, Replicate),
        ["drop-cluster-packet-filter"] = new(n => n == 3, c =>
        {
            if (c.TryGetLong(2, out var type))
            {
                c.Server.Debug.DroppedClusterPacketType = type;
                c.Reply.WriteLiteral(Replies.Ok);
            }
        }),
        ["htstats"] = new(n => n == 3, HashTableStats),
        ["stringmatch-test"] = new(n => n == 2, StringMatchTest),
        ["segfault"] = new(_ => true, WouldCrash),
        ["panic"] = new(_ => true, WouldCrash),
        ["assert"] = new(_ => true, WouldCrash),
        ["oom"] = new(_ => true, WouldCrash),
        ["restart"] = new(_ => true, WouldCrash),
        ["crash-and-recover"] = new(_ => true, WouldCrash),
    };

    public static void Register(CommandRegistry r) => r.Add("debug", Debug);

    private static void Debug(CommandContext c)
    {
        if (Subcommands.TryGetValue(Encoding.Latin1.GetString(c.Arg(1)), out var subcommand) && subcommand.Arity(c.ArgCount))
        {
            subcommand.Run(c);
        }
        else
        {
            Help.SubcommandSyntaxError(c);
        }
    }

    /// <summary>A 0|1 switch, read as C's atoi reads it (anything but a non-zero number is off).</summary>
    private static void Switch(CommandContext c, Action<bool> set)
    {
        set(Atoi(c.Arg(2)) != 0);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void WouldCrash(CommandContext c)
        => c.Error($"ERR DEBUG {Encoding.Latin1.GetString(c.Arg(1)).ToUpperInvariant()} would end the process, which Tessera does not do on request");

    private static void Sleep(CommandContext c)
    {
        double.TryParse(Encoding.ASCII.GetString(c.Arg(2)), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds);
        if (seconds > 0)
        {
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue / 1000.0)));
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// DEBUG QUICKLIST-PACKED-THRESHOLD size: checked as Redis checks it (a memory value up to 4 GB less 1 MB).
    /// Tessera's lists have no packed and plain nodes to choose between, so an accepted value changes nothing.
    /// </summary>
    private static void QuicklistPackedThreshold(CommandContext c)
    {
        if (!Config.MemoryUnits.TryParse(Encoding.Latin1.GetString(c.Arg(2)), out var size) || size < 0 || size > (1L << 32) - (1L << 20))
        {
            c.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// DEBUG REPLYBUFFER PEAK-RESET-TIME never|reset|ms, RESIZING 0|1: checked as Redis checks them. Tessera's
    /// reply buffers are pooled chunks with no peak to reset nor buffer to resize, so they change nothing.
    /// </summary>
    private static void ReplyBuffer(CommandContext c)
    {
        if (c.ArgIs(2, "peak-reset-time"u8))
        {
            if (!c.ArgIs(3, "never"u8) && !c.ArgIs(3, "reset"u8) && !c.TryGetLong(3, out _))
            {
                return;
            }
        }
        else if (!c.ArgIs(2, "resizing"u8))
        {
            Help.SubcommandSyntaxError(c);
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the snapshot, empties the dataset and loads the snapshot back.</summary>
    private static void Reload(CommandContext c)
    {
        bool flush = true, save = true, merge = false;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (c.ArgIs(i, "merge"u8))
            {
                merge = true;
            }
            else if (c.ArgIs(i, "noflush"u8))
            {
                flush = false;
            }
            else if (c.ArgIs(i, "nosave"u8))
            {
                save = false;
            }
            else
            {
                c.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        if (save && !c.Server.Snapshots.Save())
        {
            c.Error("ERR");
            return;
        }
        if (flush)
        {
            EmptyData(c);
        }
        try
        {
            c.Server.Snapshots.Load(merge);
        }
        catch (Persistence.Rdb.RdbFormatException)
        {
            c.Error("ERR Error trying to load the RDB dump");
            return;
        }
        c.Server.Log.DebugReloaded("DB", "RELOAD");
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// DEBUG LOADAOF: writes out the AOF's buffer, empties the dataset and replays the AOF. Where Redis exits
    /// because the files cannot be loaded, the command fails (with the dataset empty).
    /// </summary>
    private static void LoadAof(CommandContext c)
    {
        EmptyData(c);
        if (c.Server.Aof.Reload() is { } error)
        {
            c.Error(error);
            return;
        }
        c.Server.Changes.Dirty = 0;
        c.Server.Log.DebugReloaded("Append Only File", "LOADAOF");
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>Redis's emptyData for RELOAD and LOADAOF: every database and the function libraries.</summary>
    private static void EmptyData(CommandContext c)
    {
        foreach (var db in c.Keyspace.Databases)
        {
            c.Server.Watches.TouchDatabase(db, replacedWith: null);
            db.Clear();
        }
        c.Server.Tracking.InvalidateAll();
        c.Server.ScriptsIfStarted?.FlushLibraries();
    }

    /// <summary>DEBUG REPLICATE command...: sends the command to the replicas only, as if it had run here.</summary>
    private static void Replicate(CommandContext c)
    {
        var propagation = c.Server.Propagation;
        if (propagation.Active)
        {
            var args = new byte[c.ArgCount - 2][];
            for (var i = 2; i < c.ArgCount; i++)
            {
                args[i - 2] = c.Arg(i).ToArray();
            }
            propagation.Targets = PropagationTargets.Replicas;
            try
            {
                propagation.Command(-1, args);
            }
            finally
            {
                propagation.Targets = PropagationTargets.All;
            }
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static long Atoi(ReadOnlySpan<byte> text)
    {
        long value = 0;
        var i = 0;
        var negative = !text.IsEmpty && text[0] == (byte)'-';
        i = negative ? 1 : 0;
        for (; i < text.Length && char.IsAsciiDigit((char)text[i]); i++)
        {
            value = (value * 10) + (text[i] - '0');
        }
        return negative ? -value : value;
    }

    private static void DigestValue(CommandContext c)
    {
        // Logically expired keys count too: a debug command looks at what is stored.
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            var digest = c.Db.TryFindRaw(c.Arg(i), out var entry) ? DatasetDigest.OfValue(entry.Item, entry.Expire) : DatasetDigest.Empty;
            c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(digest));
        }
    }

    /// <summary>DEBUG OBJECT key: what is stored, a logically expired key included (Redis looks in the dict).</summary>
    private static void DebugObject(CommandContext c)
    {
        if (!c.Db.TryFindRaw(c.Arg(2), out var entry))
        {
            c.Error(Replies.NoSuchKey);
            return;
        }
        var meta = entry.Entry.Extra;
        var encoding = KeyCommands.EncodingName(entry.Item, meta);
        var length = StringValue.TryGetBytes(entry.Item, out var bytes) ? bytes.Length + 1 : 1;
        var idle = KeyMeta.IdleMilliseconds(meta, KeyMeta.LruClock(c.Keyspace.Now)) / 1000;
        var address = System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(entry.Item);
        c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(
            $"Value at:0x{address:x} refcount:1 encoding:{encoding} serializedlength:{length} lru:{KeyMeta.Access(meta)} lru_seconds_idle:{idle}"));
    }

    /// <summary>
    /// DEBUG LISTPACK and QUICKLIST key: for a value of that encoding, its structure goes to the log (Redis prints
    /// it on stdout) and the reply says so.
    /// </summary>
    private static void EncodedStructure(CommandContext c, string encoding, string done, string refusal)
    {
        if (!c.Db.TryGet(c.Arg(2), out var entry, LookupFlags.NoTouch | LookupFlags.NoStats))
        {
            c.Error(Replies.NoSuchKey);
            return;
        }
        if (KeyCommands.EncodingName(entry.Item, entry.Entry.Extra) != encoding)
        {
            c.Error("ERR " + refusal);
            return;
        }
        c.Server.Log.DebugStructure($"{encoding} {Encoding.Latin1.GetString(c.Arg(2))}: {((StoredValue)entry.Item).TypeName}, {((StoredValue)entry.Item).MemoryBytes} bytes");
        c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(done));
    }

    /// <summary>
    /// DEBUG HTSTATS dbid: the keys and the keys with a TTL of a database, in the shape of Redis's dictionary
    /// statistics, with the table sizes Redis's dictionaries have for those counts (Tessera's own tables are
    /// per slot and open-addressed, without chains).
    /// </summary>
    private static void HashTableStats(CommandContext c)
    {
        if (!c.TryGetLong(2, out var index))
        {
            return;
        }
        if (index < 0 || index >= c.Keyspace.Databases.Length)
        {
            c.Error("ERR Out of range database");
            return;
        }
        var db = c.Keyspace.Databases[index];
        var text = new StringBuilder();
        text.Append("[Dictionary HT]\n");
        DictionaryStats(text, db.Count);
        text.Append("[Expires HT]\n");
        DictionaryStats(text, db.VolatileCount);
        c.Reply.WriteVerbatim(Encoding.ASCII.GetBytes(text.ToString()));
    }

    private static void DictionaryStats(StringBuilder text, long count)
    {
        if (count == 0)
        {
            text.Append("Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n");
            return;
        }
        var size = Math.Max(4L, (long)BitOperations.RoundUpToPowerOf2((ulong)count));
        text.Append(CultureInfo.InvariantCulture, $"Hash table 0 stats (main hash table):\n table size: {size}\n number of elements: {count}\n");
        text.Append(CultureInfo.InvariantCulture, $" different slots: {count}\n max chain length: 1\n avg chain length (counted): 1.00\n avg chain length (computed): 1.00\n");
        text.Append(CultureInfo.InvariantCulture, $" Chain length distribution:\n   0: {size - count} ({100.0 * (size - count) / size:F2}%)\n   1: {count} ({100.0 * count / size:F2}%)\n");
    }

    /// <summary>
    /// DEBUG STRINGMATCH-TEST: a fuzz test of glob matching (Redis's stringmatchlen_fuzz_test): random patterns
    /// against random strings, that must all end.
    /// </summary>
    private static void StringMatchTest(CommandContext c)
    {
        var random = new Random(0);
        Span<byte> text = stackalloc byte[32];
        Span<byte> pattern = stackalloc byte[32];
        var matches = 0;
        for (var cycle = 0; cycle < 1_000_000; cycle++)
        {
            var textLength = random.Next(text.Length);
            var patternLength = random.Next(pattern.Length);
            for (var j = 0; j < textLength; j++)
            {
                text[j] = (byte)random.Next(128);
            }
            for (var j = 0; j < patternLength; j++)
            {
                pattern[j] = (byte)random.Next(128);
            }
            matches += Core.Text.GlobPattern.IsMatch(pattern[..patternLength], text[..textLength]) ? 1 : 0;
        }
        c.Server.Log.DebugStructure($"total matches: {matches}");
        c.Reply.WriteSimpleString("Apparently Redis did not crash: test passed"u8);
    }

    /// <summary>DEBUG POPULATE count [prefix] [size]: keys "prefix:N" holding "value:N" (zero-padded to size).</summary>
    private static void Populate(CommandContext c)
    {
        if (!RedisInteger.TryParse(c.Arg(2), out var count) || count < 0)
        {
            c.Error("ERR value is out of range, must be positive");
            return;
        }
        long size = 0;
        if (c.ArgCount == 5 && (!RedisInteger.TryParse(c.Arg(4), out size) || size < 0))
        {
            c.Error("ERR value is out of range, must be positive");
            return;
        }
        var prefix = c.ArgCount >= 4 ? Encoding.Latin1.GetString(c.Arg(3)) : "key";
        var db = c.Db;
        for (long j = 0; j < count; j++)
        {
            var key = Encoding.Latin1.GetBytes($"{prefix}:{j}");
            if (db.TryGet(key, out _, LookupFlags.Write))
            {
                continue;
            }
            var text = Encoding.ASCII.GetBytes($"value:{j}");
            byte[] value;
            if (size == 0)
            {
                value = text;
            }
            else
            {
                value = new byte[size];
                text.AsSpan(0, (int)Math.Min(size, text.Length)).CopyTo(value);
            }
            db.AddString(key, value, StringValue.EncodingForLength(value.Length));
        }
        // Not counted as changes, as in Redis: the keys are neither saved early for it nor propagated.
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>DEBUG PROTOCOL type: one reply of each RESP type, for client tests.</summary>
    private static void Protocol(CommandContext c)
    {
        var w = c.Reply;
        var name = Encoding.ASCII.GetString(c.Arg(2)).ToLowerInvariant();
        switch (name)
        {
            case "string":
                w.WriteBulk("Hello World"u8);
                break;
            case "integer":
                w.WriteInteger(12345);
                break;
            case "double":
                w.WriteDouble(3.141);
                break;
            case "bignum":
                w.WriteLiteral(w.Protocol == 3 ? "(1234567999999999999999999999999999999\r\n"u8 : "$37\r\n1234567999999999999999999999999999999\r\n"u8);
                break;
            case "null":
                w.WriteNullBulk();
                break;
            case "array":
            case "set":
                if (name == "set")
                {
                    w.WriteSetHeader(3);
                }
                else
                {
                    w.WriteArrayHeader(3);
                }
                for (var i = 0; i < 3; i++)
                {
                    w.WriteInteger(i);
                }
                break;
            case "map":
                w.WriteMapHeader(3);
                for (var i = 0; i < 3; i++)
                {
                    w.WriteInteger(i);
                    w.WriteBoolean(i == 1);
                }
                break;
            case "attrib":
                // An attribute is not a reply of its own: a real one follows it (RESP2 has only that one).
                if (w.Protocol == 3)
                {
                    w.WriteLiteral("|1\r\n"u8);
                    w.WriteBulk("key-popularity"u8);
                    w.WriteArrayHeader(2);
                    w.WriteBulk("key:123"u8);
                    w.WriteInteger(90);
                }
                w.WriteBulk("Some real reply following the attribute"u8);
                break;
            case "push":
                if (w.Protocol < 3)
                {
                    c.Error("ERR RESP2 is not supported by this command");
                    return;
                }
                // A push is out of band: a real reply follows it, for a client that skips the push.
                c.PushWriter.WritePushHeader(2);
                c.PushWriter.WriteBulk("server-cpu-usage"u8);
                c.PushWriter.WriteInteger(42);
                w.WriteBulk("Some real reply following the push reply"u8);
                break;
            case "true":
                w.WriteBoolean(true);
                break;
            case "false":
                w.WriteBoolean(false);
                break;
            case "verbatim":
                w.WriteVerbatim("This is a verbatim\nstring"u8);
                break;
            default:
                c.Error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
                break;
        }
    }

    private static void DebugHelp(CommandContext c) => Help.Write(c,
        "AOF-FLUSH-SLEEP <microsec>",
        "    Server will sleep before flushing the AOF, this is used for testing.",
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "HTSTATS <dbid>",
        "    Return hash table statistics of the specified Redis database.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "REPLICATE <string>",
        "    Replicates the provided string to replicas, allowing data divergence.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "DROP-CLUSTER-PACKET-FILTER <packet-type>",
        "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the stringmatchlen() function.",
        "LISTPACK <key>",
        "    Show low level info about the listpack encoding of <key>.",
        "QUICKLIST <key> [<0|1>]",
        "    Show low level info about the quicklist encoding of <key>.",
        "    The optional argument (0 by default) sets the level of detail",
        "PAUSE-CRON <0|1>",
        "    Stop periodic cron job processing.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
        "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
        "    In case NEVER is provided the last observed peak will never be reset",
        "    In case RESET is provided the peak reset time will be restored to the default value",
        "REPLYBUFFER RESIZING <0|1>",
        "    Enable or disable the reply buffer resize cron job");
}
