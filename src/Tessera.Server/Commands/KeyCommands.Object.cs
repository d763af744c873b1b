using System.Text;
using Tessera.Resp;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ and HELP.</summary>
internal static partial class KeyCommands
{
    private const string PolicyNote = " Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

    /// <summary>The key for OBJECT subcommands (no access-time update); replies null when it is missing.</summary>
    private static bool TryGetObject(CommandContext c, out KeyRef entry)
    {
        if (c.Db.TryGet(c.Arg(2), out entry, LookupFlags.NoTouch | LookupFlags.NoStats))
        {
            return true;
        }
        c.Reply.WriteNullBulk();
        return false;
    }

    /// <summary>OBJECT ENCODING's name for a value.</summary>
    internal static string EncodingName(object item, uint meta)
    {
        if (item is StoredValue value)
        {
            return value.EncodingName;
        }
        return KeyMeta.Encoding(meta) switch
        {
            StringEncoding.Int => "int",
            StringEncoding.Embstr => "embstr",
            _ => "raw",
        };
    }

    private static void ObjectEncoding(CommandContext c)
    {
        if (TryGetObject(c, out var entry))
        {
            c.Reply.WriteBulk(Encoding.ASCII.GetBytes(EncodingName(entry.Item, entry.Entry.Extra)));
        }
    }

    private static void ObjectRefCount(CommandContext c)
    {
        if (!TryGetObject(c, out var entry))
        {
            return;
        }
        // Redis shares the integer objects 0..9999 (refcount INT_MAX) unless an LRU/LFU policy needs per-key clocks.
        var config = c.Server.Config;
        var sharingAllowed = config.MaxMemory.Value == 0
            || !(config.MaxMemoryPolicy.Value.EndsWith("-lru", StringComparison.Ordinal) || config.MaxMemoryPolicy.Value.EndsWith("-lfu", StringComparison.Ordinal));
        var shared = entry.Item is byte[] packed && KeyMeta.Encoding(entry.Entry.Extra) == StringEncoding.Int
            && RedisInteger.TryParse(PackedString.Value(packed), out var number) && number is >= 0 and < 10000 && sharingAllowed;
        c.Reply.WriteInteger(shared ? int.MaxValue : 1);
    }

    private static void ObjectIdleTime(CommandContext c)
    {
        if (!TryGetObject(c, out var entry))
        {
            return;
        }
        if (c.Keyspace.Lfu)
        {
            c.Error("ERR An LFU maxmemory policy is selected, idle time not tracked." + PolicyNote);
            return;
        }
        c.Reply.WriteInteger(KeyMeta.IdleMilliseconds(entry.Entry.Extra, KeyMeta.LruClock(c.Keyspace.Now)) / 1000);
    }

    private static void ObjectFreq(CommandContext c)
    {
        if (!TryGetObject(c, out var entry))
        {
            return;
        }
        if (!c.Keyspace.Lfu)
        {
            c.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked." + PolicyNote);
            return;
        }
        c.Reply.WriteInteger(KeyMeta.LfuDecayed(entry.Entry.Extra, c.Keyspace.Now, c.Server.Config.LfuDecayTime.Value));
    }

    private static void ObjectHelp(CommandContext c) => Help.Write(c,
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.");
}
