using System.Globalization;
using System.Text;
using Tessera.Resp;
using Tessera.Server.Persistence;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>
/// DEBUG (refused unless <c>enable-debug-command</c> allows it, checked by the pipeline): SLEEP,
/// SET-ACTIVE-EXPIRE, OBJECT, POPULATE, RELOAD, DIGEST, DIGEST-VALUE, PROTOCOL, LOG, CHANGE-REPL-ID,
/// QUICKLIST-PACKED-THRESHOLD, HELP.
/// </summary>
internal static class DebugCommands
{
    public static void Register(CommandRegistry r) => r.Add("debug", Debug);

    private static void Debug(CommandContext c)
    {
        if (c.ArgIs(1, "help"u8) && c.ArgCount == 2)
        {
            DebugHelp(c);
        }
        else if (c.ArgIs(1, "sleep"u8) && c.ArgCount == 3)
        {
            double.TryParse(Encoding.ASCII.GetString(c.Arg(2)), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds);
            if (seconds > 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds(seconds));
            }
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else if (c.ArgIs(1, "set-active-expire"u8) && c.ArgCount == 3)
        {
            c.Keyspace.ActiveExpireEnabled = Atoi(c.Arg(2)) != 0;
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else if (c.ArgIs(1, "object"u8) && c.ArgCount == 3)
        {
            DebugObject(c);
        }
        else if (c.ArgIs(1, "populate"u8) && c.ArgCount is >= 3 and <= 5)
        {
            Populate(c);
        }
        else if (c.ArgIs(1, "reload"u8) && c.ArgCount == 2)
        {
            Reload(c);
        }
        else if (c.ArgIs(1, "digest"u8) && c.ArgCount == 2)
        {
            c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(DatasetDigest.Of(c.Keyspace)));
        }
        else if (c.ArgIs(1, "digest-value"u8))
        {
            // Logically expired keys count too: a debug command looks at what is stored.
            c.Reply.WriteArrayHeader(c.ArgCount - 2);
            for (var i = 2; i < c.ArgCount; i++)
            {
                var digest = c.Db.TryFindRaw(c.Arg(i), out var entry) ? DatasetDigest.OfValue(entry.Item, entry.Expire) : DatasetDigest.Empty;
                c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(digest));
            }
        }
        else if (c.ArgIs(1, "protocol"u8) && c.ArgCount == 3)
        {
            Protocol(c);
        }
        else if ((c.ArgIs(1, "log"u8) && c.ArgCount == 3) || (c.ArgIs(1, "change-repl-id"u8) && c.ArgCount == 2)
            || (c.ArgIs(1, "quicklist-packed-threshold"u8) && c.ArgCount == 3))
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else
        {
            Help.SubcommandSyntaxError(c);
        }
    }

    /// <summary>DEBUG RELOAD: saves the snapshot, empties the dataset and loads the snapshot back.</summary>
    private static void Reload(CommandContext c)
    {
        if (!c.Server.Snapshots.Save())
        {
            c.Error("ERR Error trying to save the DB");
            return;
        }
        foreach (var db in c.Keyspace.Databases)
        {
            c.Server.Watches.TouchDatabase(db, replacedWith: null);
            db.Clear();
        }
        c.Server.ScriptsIfStarted?.FlushLibraries();
        try
        {
            c.Server.Snapshots.Load();
        }
        catch (Persistence.Rdb.RdbFormatException)
        {
            c.Error("ERR Error trying to load the RDB dump");
            return;
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

    private static void DebugObject(CommandContext c)
    {
        if (!c.Db.TryGet(c.Arg(2), out var entry, LookupFlags.NoTouch | LookupFlags.NoStats))
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
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about the key and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.");
}
