using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>
/// DUMP and RESTORE (Redis's cluster.c): a key's value as an RDB payload with the RDB version and a CRC-64, so
/// values move between servers, Redis's included, in both directions.
/// </summary>
internal static class DumpCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("dump", Dump);
        r.Add("restore", Restore);
    }

    private static void Dump(CommandContext c)
    {
        if (!c.Db.TryGet(c.Arg(1), out var entry))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        var config = c.Server.Config;
        c.Reply.WriteBulk(DumpPayload.Create(config.RdbCompression.Value, w => RdbValues.Write(w, entry.Item, config)));
    }

    /// <summary>RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency].</summary>
    public static void Restore(CommandContext c)
    {
        var replace = false;
        var absolute = false;
        long idle = -1;
        long frequency = -1;
        for (var i = 4; i < c.ArgCount; i++)
        {
            var more = c.ArgCount - i - 1;
            if (c.ArgIs(i, "replace"u8))
            {
                replace = true;
            }
            else if (c.ArgIs(i, "absttl"u8))
            {
                absolute = true;
            }
            else if (c.ArgIs(i, "idletime"u8) && more >= 1 && frequency == -1)
            {
                if (!c.TryGetLong(++i, out idle))
                {
                    return;
                }
                if (idle < 0)
                {
                    c.Error("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }
            }
            else if (c.ArgIs(i, "freq"u8) && more >= 1 && idle == -1)
            {
                if (!c.TryGetLong(++i, out frequency))
                {
                    return;
                }
                if (frequency is < 0 or > 255)
                {
                    c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        var key = c.Arg(1);
        var db = c.Db;
        if (!replace && db.TryGet(key, out _, LookupFlags.Write))
        {
            c.Error("BUSYKEY Target key name already exists.");
            return;
        }
        if (!c.TryGetLong(2, out var ttl))
        {
            return;
        }
        if (ttl < 0)
        {
            c.Error("ERR Invalid TTL value, must be >= 0");
            return;
        }
        if (DumpPayload.Open(c.Arg(3), c.Server.Debug.SkipChecksumValidation) is not { } reader)
        {
            c.Error("ERR DUMP payload version or checksum are wrong");
            return;
        }
        var sanitizer = Sanitizer(c);
        var loaded = TryLoad(reader, key, c.Server.Config, sanitizer, out var value);
        c.Server.Stats.DumpPayloadSanitizations += sanitizer?.Checks ?? 0;
        if (!loaded)
        {
            c.Error("ERR Bad data format");
            return;
        }
        var deleted = replace && db.Delete(key);
        if (ttl > 0 && !absolute)
        {
            ttl += c.Keyspace.Now;
        }
        if (ttl > 0 && ttl <= c.Keyspace.Now && !c.Keyspace.IsReplica)
        {
            // Already expired: the key is gone, which is a deletion if it replaced one.
            if (deleted)
            {
                c.Modified(key, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Ok);
            return;
        }
        var added = value is byte[] bytes ? db.AddString(key, bytes, StringValue.EncodingFor(bytes)) : db.Add(key, (StoredValue)value);
        if (ttl > 0)
        {
            db.SetExpire(added, ttl);
        }
        SetAccess(c, ref added.Entry, idle, frequency);
        c.Modified(key, KeyspaceEvents.Generic, "restore"u8);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// Redis's choice of deep payload checks for a RESTORE: always under sanitize-dump-payload yes; under
    /// "clients" unless the payload comes from this node's master or from a user with skip-sanitize-payload.
    /// </summary>
    private static PayloadSanitizer? Sanitizer(CommandContext c) => c.Server.Config.SanitizeDumpPayload.Value switch
    {
        "yes" => new PayloadSanitizer(),
        "clients" when (c.Session.Flags & ClientFlags.Master) == 0 && !c.Session.User.SkipsPayloadSanitization => new PayloadSanitizer(),
        _ => null,
    };

    /// <summary>Reads the one value of a payload; false when it is not a value this server can hold.</summary>
    private static bool TryLoad(RdbReader reader, ReadOnlySpan<byte> key, Config.ServerConfig config, PayloadSanitizer? sanitize, out object value)
    {
        value = null!;
        try
        {
            var type = reader.ReadByte();
            if (!RdbValues.IsValueType(type))
            {
                return false;
            }
            value = RdbValues.Read(reader, type, key, config, sanitize);
            return true;
        }
        catch (RdbFormatException)
        {
            return false;
        }
    }

    /// <summary>IDLETIME under an LRU policy, FREQ under an LFU one (Redis's objectSetLRUOrLFU); ignored otherwise.</summary>
    private static void SetAccess(CommandContext c, ref Storage.Structures.OpenTable<object, StoredItemKey>.Entry entry, long idle, long frequency)
    {
        var now = c.Keyspace.Now;
        if (c.Keyspace.Lfu && frequency >= 0)
        {
            entry.Extra = KeyMeta.WithAccess(entry.Extra, (KeyMeta.LfuMinutes(now) << 8) | (uint)frequency);
        }
        else if (!c.Keyspace.Lfu && idle >= 0)
        {
            entry.Extra = KeyMeta.WithAccess(entry.Extra, KeyMeta.LruClock(now - Math.Min(idle, now / 1000) * 1000));
        }
    }
}
