using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>Generic keyspace commands (Redis's db.c): DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE, SELECT ...</summary>
internal static partial class KeyCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("del", Delete);
        r.Add("unlink", Delete);
        r.Add("exists", Exists);
        r.Add("touch", Touch);
        r.Add("type", Type);
        r.Add("keys", Keys);
        r.Add("scan", Scan);
        r.Add("randomkey", RandomKey);
        r.Add("rename", c => Rename(c, nx: false));
        r.Add("renamenx", c => Rename(c, nx: true));
        r.Add("copy", Copy);
        r.Add("move", Move);
        r.Add("dbsize", c => c.Reply.WriteInteger(c.Db.Count));
        r.Add("select", Select);
        r.Add("swapdb", SwapDb);
        r.Add("flushdb", c => Flush(c, all: false));
        r.Add("flushall", c => Flush(c, all: true));
        r.Add("object|encoding", ObjectEncoding);
        r.Add("object|refcount", ObjectRefCount);
        r.Add("object|idletime", ObjectIdleTime);
        r.Add("object|freq", ObjectFreq);
        r.Add("object|help", ObjectHelp);
    }

    /// <summary>The TYPE name of a stored value.</summary>
    internal static string TypeName(object item) => item is StoredValue value ? value.TypeName : "string";

    private static void Delete(CommandContext c)
    {
        long deleted = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.Db.Delete(c.Arg(i)))
            {
                c.Modified(c.Arg(i), KeyspaceEvents.Generic, "del"u8);
                deleted++;
            }
        }
        c.Reply.WriteInteger(deleted);
    }

    private static void Exists(CommandContext c)
    {
        long count = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.Db.TryGet(c.Arg(i), out _, LookupFlags.NoTouch))
            {
                count++;
            }
        }
        c.Reply.WriteInteger(count);
    }

    private static void Touch(CommandContext c)
    {
        long count = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.Db.TryGet(c.Arg(i), out _))
            {
                count++;
            }
        }
        c.Reply.WriteInteger(count);
    }

    private static void Type(CommandContext c)
    {
        var name = c.Db.TryGet(c.Arg(1), out var entry, LookupFlags.NoTouch) ? TypeName(entry.Item) : "none";
        c.Reply.WriteSimpleString(System.Text.Encoding.ASCII.GetBytes(name));
    }

    private static void Keys(CommandContext c)
    {
        var pattern = c.Arg(1);
        var all = GlobPattern.MatchesAll(pattern);
        var keys = new List<byte[]>();
        var cursor = 0UL;
        do
        {
            cursor = c.Db.Scan(cursor, 1024, keys);
        }
        while (cursor != 0);
        var now = c.Keyspace.Now;
        var matched = new List<byte[]>(keys.Count);
        foreach (var key in keys)
        {
            if ((all || GlobPattern.IsMatch(pattern, key)) && c.Db.TryFindRaw(key, out var entry)
                && (entry.Expire == 0 || entry.Expire >= now))
            {
                matched.Add(key);
            }
        }
        c.Reply.WriteArrayHeader(matched.Count);
        foreach (var key in matched)
        {
            c.Reply.WriteBulk(key);
        }
    }

    /// <summary>A SCAN cursor as strtoul reads it: optional sign, digits, nothing else; "" is 0.</summary>
    internal static bool TryParseCursor(CommandContext c, int index, out ulong cursor)
    {
        var text = c.Arg(index);
        cursor = 0;
        var negative = false;
        var i = 0;
        if (!text.IsEmpty && text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            i = 1;
        }
        var valid = true;
        for (; i < text.Length; i++)
        {
            var digit = (uint)(text[i] - '0');
            if (digit > 9 || cursor > (ulong.MaxValue - digit) / 10)
            {
                valid = false;
                break;
            }
            cursor = (cursor * 10) + digit;
        }
        if (!valid || (!text.IsEmpty && text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f'))
        {
            c.Error("ERR invalid cursor");
            return false;
        }
        cursor = negative ? unchecked(0 - cursor) : cursor;
        return true;
    }

    private static void Scan(CommandContext c)
    {
        if (!ScanOptions.TryParse(c, 1, allowType: true, out var options))
        {
            return;
        }
        var keys = new List<byte[]>();
        var next = c.Db.Scan(options.Cursor, options.Count, keys);
        var kept = new List<byte[]>(keys.Count);
        foreach (var key in keys)
        {
            if (!options.Matches(c, key))
            {
                continue;
            }
            var live = c.Db.TryGet(key, out var entry, LookupFlags.NoTouch | LookupFlags.NoStats);
            if (options.TypeIndex >= 0 && !System.Text.Ascii.EqualsIgnoreCase(c.Arg(options.TypeIndex), live ? TypeName(entry.Item) : "none"))
            {
                continue;
            }
            if (live)
            {
                kept.Add(key);
            }
        }
        ScanOptions.WriteCursor(c, next, kept.Count);
        foreach (var key in kept)
        {
            c.Reply.WriteBulk(key);
        }
    }

    private static void RandomKey(CommandContext c)
    {
        var db = c.Db;
        // Expired keys found on the way are reclaimed, as in Redis's dbRandomKey.
        for (var tries = 0; tries < 100; tries++)
        {
            if (!db.TryGetRandom(c.Keyspace.Random, out var entry))
            {
                break;
            }
            var key = entry.Key;
            if (entry.Expire == 0 || entry.Expire >= c.Keyspace.Now || !c.Keyspace.ExpireIfNeeded(db, entry) || c.Keyspace.IsReplica)
            {
                c.Reply.WriteBulk(key);
                return;
            }
        }
        c.Reply.WriteNullBulk();
    }

    private static void Rename(CommandContext c, bool nx)
    {
        var db = c.Db;
        var source = c.Arg(1);
        var destination = c.Arg(2);
        if (!db.TryGet(source, out var entry, LookupFlags.Write))
        {
            c.Error(Replies.NoSuchKey);
            return;
        }
        if (source.SequenceEqual(destination))
        {
            c.Reply.WriteLiteral(nx ? Replies.Zero : Replies.Ok);
            return;
        }
        var value = entry.Item;
        var expire = entry.Expire;
        var meta = entry.Entry.Extra;
        if (db.TryGet(destination, out var existing, LookupFlags.Write))
        {
            if (nx)
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
            db.Remove(existing);
        }
        // Remove the source first; the value moves under the new key (packed strings are rebuilt).
        db.TryFindRaw(source, out entry);
        db.Remove(entry);
        var added = db.AddItem(ValueCopy.Rekey(value, destination), Database.Locate(destination), meta);
        if (expire != 0)
        {
            db.SetExpire(added, expire);
        }
        c.SignalModified(source);
        c.SignalModified(destination);
        c.Notify(KeyspaceEvents.Generic, "rename_from"u8, source);
        c.Notify(KeyspaceEvents.Generic, "rename_to"u8, destination);
        c.Dirty();
        c.Reply.WriteLiteral(nx ? Replies.One : Replies.Ok);
    }

    /// <summary>A database number argument: an int, and a database that exists.</summary>
    private static bool TryGetDb(CommandContext c, int index, out Database db)
    {
        db = null!;
        if (!RedisInteger.TryParse(c.Arg(index), out var id) || id < int.MinValue || id > int.MaxValue)
        {
            c.NotInteger();
            return false;
        }
        if (id < 0 || id >= c.Keyspace.Databases.Length)
        {
            c.Error(Replies.DbIndexOutOfRange);
            return false;
        }
        db = c.Keyspace.Databases[id];
        return true;
    }

    private static void Copy(CommandContext c)
    {
        var source = c.Db;
        var target = c.Db;
        var replace = false;
        for (var j = 3; j < c.ArgCount; j++)
        {
            if (c.ArgIs(j, "replace"u8))
            {
                replace = true;
            }
            else if (c.ArgIs(j, "db"u8) && c.ArgCount > j + 1)
            {
                if (!TryGetDb(c, ++j, out target))
                {
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
        var newKey = c.Arg(2);
        if (source == target && key.SequenceEqual(newKey))
        {
            c.Error("ERR source and destination objects are the same");
            return;
        }
        if (!source.TryGet(key, out var entry))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var copy = ValueCopy.Of(entry.Item, newKey);
        var expire = entry.Expire;
        var encoding = KeyMeta.Encoding(entry.Entry.Extra);
        if (target.TryGet(newKey, out var existing, LookupFlags.Write))
        {
            if (!replace)
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
            target.Remove(existing);
        }
        var added = target.AddItem(copy, Database.Locate(newKey), KeyMeta.WithEncoding(c.Keyspace.NewAccess(), encoding));
        if (expire != 0)
        {
            target.SetExpire(added, expire);
        }
        c.Server.Watches.Touch(target.Index, newKey);
        c.Server.Tracking.Invalidate(c.Session, newKey);
        c.Server.Notifications.Notify(KeyspaceEvents.Generic, "copy_to"u8, newKey, target.Index);
        c.Dirty();
        c.Reply.WriteLiteral(Replies.One);
    }

    private static void Move(CommandContext c)
    {
        if (!TryGetDb(c, 2, out var target))
        {
            return;
        }
        var source = c.Db;
        if (source == target)
        {
            c.Error("ERR source and destination objects are the same");
            return;
        }
        var key = c.Arg(1);
        if (!source.TryGet(key, out var entry, LookupFlags.Write))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        if (target.TryGet(key, out _, LookupFlags.Write))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var value = entry.Item;
        var expire = entry.Expire;
        var meta = entry.Entry.Extra;
        var location = Database.Locate(key);
        source.Remove(entry);
        var added = target.AddItem(value, location, meta);
        if (expire != 0)
        {
            target.SetExpire(added, expire);
        }
        c.SignalModified(key);
        c.Server.Watches.Touch(target.Index, key);
        c.Server.Tracking.Invalidate(c.Session, key);
        c.Notify(KeyspaceEvents.Generic, "move_from"u8, key);
        c.Server.Notifications.Notify(KeyspaceEvents.Generic, "move_to"u8, key, target.Index);
        c.Dirty();
        c.Reply.WriteLiteral(Replies.One);
    }

    private static void Select(CommandContext c)
    {
        if (c.Server.Cluster is not null && RedisInteger.TryParse(c.Arg(1), out var index) && index != 0)
        {
            c.Error("ERR SELECT is not allowed in cluster mode");
            return;
        }
        if (TryGetDb(c, 1, out var db))
        {
            c.Session.Select(db.Index);
            c.Reply.WriteLiteral(Replies.Ok);
        }
    }

    private static void SwapDb(CommandContext c)
    {
        if (!RedisInteger.TryParse(c.Arg(1), out var first) || first < int.MinValue || first > int.MaxValue)
        {
            c.Error("ERR invalid first DB index");
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(2), out var second) || second < int.MinValue || second > int.MaxValue)
        {
            c.Error("ERR invalid second DB index");
            return;
        }
        var count = c.Keyspace.Databases.Length;
        if (first < 0 || first >= count || second < 0 || second >= count)
        {
            c.Error(Replies.DbIndexOutOfRange);
            return;
        }
        if (first != second)
        {
            var (a, b) = (c.Keyspace.Databases[first], c.Keyspace.Databases[second]);
            c.Server.Watches.TouchDatabase(a, replacedWith: b);
            c.Server.Watches.TouchDatabase(b, replacedWith: a);
            a.SwapContents(b);
            c.Server.Blocking.SignalDatabaseReady((int)first);
            c.Server.Blocking.SignalDatabaseReady((int)second);
        }
        c.Dirty();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Flush(CommandContext c, bool all)
    {
        if (c.ArgCount > 2 || (c.ArgCount == 2 && !c.ArgIs(1, "sync"u8) && !c.ArgIs(1, "async"u8)))
        {
            c.SyntaxError();
            return;
        }
        long removed = 0;
        foreach (var db in all ? c.Keyspace.Databases : [c.Db])
        {
            c.Server.Watches.TouchDatabase(db, replacedWith: null);
            removed += db.Clear();
        }
        c.Server.Tracking.InvalidateAll();
        c.Dirty(removed);
        if (all)
        {
            c.Keyspace.StringPool.Clear();
            // Redis's flushAllDataAndResetRDB: a running background save is dropped, and with save points the
            // (now empty) snapshot is written at once.
            c.Server.Snapshots.Background?.Cancel();
            if (c.Server.Config.SavePoints.Count > 0)
            {
                c.Server.Snapshots.Save();
            }
            c.Dirty();
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }
}
