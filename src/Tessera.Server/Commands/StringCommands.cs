using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>String commands (Redis's t_string.c): GET/SET and their variants, counters, ranges and LCS.</summary>
internal static partial class StringCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("get", Get);
        r.Add("set", Set);
        r.Add("setnx", SetNx);
        r.Add("setex", c => SetWithTtl(c, seconds: true));
        r.Add("psetex", c => SetWithTtl(c, seconds: false));
        r.Add("getex", GetEx);
        r.Add("getdel", GetDel);
        r.Add("getset", GetSet);
        r.Add("mget", MGet);
        r.Add("mset", MSet);
        r.Add("msetnx", MSetNx);
        r.Add("incr", c => IncrementBy(c, 1));
        r.Add("decr", c => IncrementBy(c, -1));
        r.Add("incrby", IncrBy);
        r.Add("decrby", DecrBy);
        r.Add("incrbyfloat", IncrByFloat);
        r.Add("append", Append);
        r.Add("strlen", StrLen);
        r.Add("getrange", GetRange);
        r.Add("substr", GetRange);
        r.Add("setrange", SetRange);
        r.Add("lcs", Lcs);
    }

    /// <summary>
    /// Finds a string for reading. False when the key is missing (<paramref name="found"/> false) or holds another
    /// type, in which case WRONGTYPE has been replied.
    /// </summary>
    internal static bool TryReadString(CommandContext c, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out bool found)
    {
        value = default;
        found = c.Db.TryGet(key, out var entry);
        if (!found)
        {
            return true;
        }
        if (!StringValue.TryGetBytes(entry.Item, out value))
        {
            c.WrongType();
            return false;
        }
        return true;
    }

    private static void Get(CommandContext c)
    {
        if (!c.Db.TryGet(c.Arg(1), out var entry))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        if (entry.Item is byte[] packed)
        {
            c.Reply.WriteBulk(PackedString.Value(packed));
        }
        else if (entry.Item is MutableString mutable)
        {
            c.Reply.WriteBulk(mutable.Span);
        }
        else
        {
            c.WrongType();
        }
    }

    private static void Set(CommandContext c)
    {
        if (c.ArgCount == 3)
        {
            // The common case, without options: no parsing, no allocation when overwriting a same-size value.
            var value = c.Arg(2);
            c.Db.SetString(c.Arg(1), value, StringValue.EncodingFor(value));
            c.Modified(c.Arg(1), KeyspaceEvents.String, "set"u8);
            c.Reply.WriteLiteral(Replies.Ok);
            return;
        }
        if (!SetOptions.TryParse(c, 3, forGetEx: false, out var options) || !options.TryResolveExpiry(c, out var expireAt))
        {
            return;
        }
        SetGeneric(c, c.Arg(1), c.Arg(2), options, expireAt, integerReply: false);
    }

    private static void SetNx(CommandContext c)
        => SetGeneric(c, c.Arg(1), c.Arg(2), new SetOptions { Flags = SetFlags.Nx }, 0, integerReply: true);

    private static void SetWithTtl(CommandContext c, bool seconds)
    {
        var options = new SetOptions { Flags = seconds ? SetFlags.Ex : SetFlags.Px, ExpireArgument = 2 };
        if (options.TryResolveExpiry(c, out var expireAt))
        {
            SetGeneric(c, c.Arg(1), c.Arg(3), options, expireAt, integerReply: false);
        }
    }

    /// <summary>
    /// Redis's setGenericCommand: GET first (WRONGTYPE aborts), then NX/XX, then the write with its TTL.
    /// With <paramref name="integerReply"/> (SETNX) the replies are 1 and 0 instead of +OK and null.
    /// </summary>
    private static void SetGeneric(CommandContext c, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, SetOptions options,
        long expireAt, bool integerReply)
    {
        var db = c.Db;
        if ((options.Flags & SetFlags.Get) != 0)
        {
            if (!TryReadString(c, key, out var old, out var had))
            {
                return;
            }
            if (had)
            {
                c.Reply.WriteBulk(old);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
        }
        var exists = db.TryGet(key, out _, LookupFlags.Write);
        if (((options.Flags & SetFlags.Nx) != 0 && exists) || ((options.Flags & SetFlags.Xx) != 0 && !exists))
        {
            if ((options.Flags & SetFlags.Get) == 0)
            {
                if (integerReply)
                {
                    c.Reply.WriteLiteral(Replies.Zero);
                }
                else
                {
                    c.Reply.WriteNullBulk();
                }
            }
            return;
        }
        db.SetString(key, value, StringValue.EncodingFor(value), keepTtl: (options.Flags & SetFlags.KeepTtl) != 0);
        c.Modified(key, KeyspaceEvents.String, "set"u8);
        if (expireAt != 0 && db.TryFindRaw(key, out var entry))
        {
            db.SetExpire(entry, expireAt);
            c.Notify(KeyspaceEvents.Generic, "expire"u8, key);
            if (c.Propagating)
            {
                c.PropagateAs("SET"u8.ToArray(), key.ToArray(), value.ToArray(), "PXAT"u8.ToArray(), CommandContext.Number(expireAt));
            }
        }
        if ((options.Flags & SetFlags.Get) == 0)
        {
            c.Reply.WriteLiteral(integerReply ? Replies.One : Replies.Ok);
        }
    }

    private static void GetEx(CommandContext c)
    {
        if (!SetOptions.TryParse(c, 2, forGetEx: true, out var options))
        {
            return;
        }
        var db = c.Db;
        var key = c.Arg(1);
        if (!db.TryGet(key, out var entry))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var value))
        {
            c.WrongType();
            return;
        }
        if (!options.TryResolveExpiry(c, out var expireAt))
        {
            return;
        }
        c.Reply.WriteBulk(value);
        if ((options.Flags & (SetFlags.Exat | SetFlags.Pxat)) != 0 && expireAt <= c.Keyspace.Now && !c.Keyspace.IsReplica)
        {
            db.Remove(entry);
            c.Modified(key, KeyspaceEvents.Generic, "del"u8);
            if (c.Propagating)
            {
                c.PropagateAs(c.ExpiredKeyDelete, key.ToArray());
            }
        }
        else if (expireAt != 0)
        {
            db.SetExpire(entry, expireAt);
            c.Modified(key, KeyspaceEvents.Generic, "expire"u8);
            if (c.Propagating)
            {
                c.PropagateAs("PEXPIREAT"u8.ToArray(), key.ToArray(), CommandContext.Number(expireAt));
            }
        }
        else if ((options.Flags & SetFlags.Persist) != 0 && entry.Expire != 0)
        {
            db.ClearExpire(entry);
            c.Modified(key, KeyspaceEvents.Generic, "persist"u8);
            if (c.Propagating)
            {
                c.PropagateAs("PERSIST"u8.ToArray(), key.ToArray());
            }
        }
    }

    private static void GetDel(CommandContext c)
    {
        var db = c.Db;
        if (!db.TryGet(c.Arg(1), out var entry))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var value))
        {
            c.WrongType();
            return;
        }
        c.Reply.WriteBulk(value);
        db.Remove(entry);
        c.Modified(c.Arg(1), KeyspaceEvents.Generic, "del"u8);
        if (c.Propagating)
        {
            // As Redis: the deletion propagates as DEL (UNLINK under lazyfree-lazy-user-del), not as GETDEL.
            c.PropagateAs(Persistence.Propagation.DeleteCommand(c.Server.Config.LazyfreeLazyUserDel.Value), c.Arg(1).ToArray());
        }
    }

    private static void GetSet(CommandContext c)
    {
        var key = c.Arg(1);
        if (!TryReadString(c, key, out var old, out var had))
        {
            return;
        }
        if (had)
        {
            c.Reply.WriteBulk(old);
        }
        else
        {
            c.Reply.WriteNullBulk();
        }
        var value = c.Arg(2);
        c.Db.SetString(key, value, StringValue.EncodingFor(value));
        c.Modified(key, KeyspaceEvents.String, "set"u8);
    }

    private static void MGet(CommandContext c)
    {
        c.Reply.WriteArrayHeader(c.ArgCount - 1);
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.Db.TryGet(c.Arg(i), out var entry) && StringValue.TryGetBytes(entry.Item, out var value))
            {
                c.Reply.WriteBulk(value);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
        }
    }

    private static void MSet(CommandContext c)
    {
        if (c.ArgCount % 2 == 0)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            var value = c.Arg(i + 1);
            c.Db.SetString(c.Arg(i), value, StringValue.EncodingFor(value));
            c.Modified(c.Arg(i), KeyspaceEvents.String, "set"u8);
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void MSetNx(CommandContext c)
    {
        if (c.ArgCount % 2 == 0)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            if (c.Db.TryGet(c.Arg(i), out _, LookupFlags.Write))
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
        }
        MSet(c);
        // MSET wrote +OK; MSETNX answers 1 instead.
        c.Reply.TruncateTo(c.Reply.Length - Replies.Ok.Length);
        c.Reply.WriteLiteral(Replies.One);
    }

    private static void IncrBy(CommandContext c)
    {
        if (c.TryGetLong(2, out var increment))
        {
            IncrementBy(c, increment);
        }
    }

    private static void DecrBy(CommandContext c)
    {
        if (!c.TryGetLong(2, out var decrement))
        {
            return;
        }
        if (decrement == long.MinValue)
        {
            c.Error("ERR decrement would overflow");
            return;
        }
        IncrementBy(c, -decrement);
    }

    /// <summary>INCR/DECR/INCRBY/DECRBY: the value must be a canonical 64-bit integer; the TTL is kept.</summary>
    private static void IncrementBy(CommandContext c, long increment)
    {
        var db = c.Db;
        var key = c.Arg(1);
        long value = 0;
        var exists = db.TryGet(key, out var entry, LookupFlags.Write);
        if (exists)
        {
            if (!StringValue.TryGetBytes(entry.Item, out var current))
            {
                c.WrongType();
                return;
            }
            if (!RedisInteger.TryParse(current, out value))
            {
                c.NotInteger();
                return;
            }
        }
        if (!RedisInteger.TryAdd(value, increment, out value))
        {
            c.Error(Replies.Overflow);
            return;
        }
        Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
        var length = RedisInteger.Format(value, text);
        if (exists)
        {
            // Same number of digits: rewritten in place, no allocation.
            db.OverwriteString(entry, text[..length], StringEncoding.Int, keepTtl: true);
        }
        else
        {
            db.AddString(key, text[..length], StringEncoding.Int);
        }
        c.Modified(key, KeyspaceEvents.String, "incrby"u8);
        c.Reply.WriteInteger(value);
    }

    private static void IncrByFloat(CommandContext c)
    {
        var db = c.Db;
        var key = c.Arg(1);
        var value = ExtendedFloat.FromInt64(0);
        var exists = db.TryGet(key, out var entry, LookupFlags.Write);
        if (exists)
        {
            if (!StringValue.TryGetBytes(entry.Item, out var current))
            {
                c.WrongType();
                return;
            }
            if (!ExtendedFloat.TryParse(current, out value))
            {
                c.Error(Replies.NotFloat);
                return;
            }
        }
        if (!ExtendedFloat.TryParse(c.Arg(2), out var increment))
        {
            c.Error(Replies.NotFloat);
            return;
        }
        if (!TryAddFloat(c, value, increment, out var text))
        {
            return;
        }
        var encoding = StringValue.EncodingForLength(text.Length);
        if (exists)
        {
            db.OverwriteString(entry, text, encoding, keepTtl: true);
        }
        else
        {
            db.AddString(key, text, encoding);
        }
        c.Modified(key, KeyspaceEvents.String, "incrbyfloat"u8);
        if (c.Propagating)
        {
            // The sum as stored: replaying the increment could round differently.
            c.PropagateAs("SET"u8.ToArray(), key.ToArray(), text.ToArray(), "KEEPTTL"u8.ToArray());
        }
        c.Reply.WriteBulk(text);
    }

    private static void Append(CommandContext c)
    {
        var db = c.Db;
        var key = c.Arg(1);
        var suffix = c.Arg(2);
        if (!db.TryGet(key, out var entry, LookupFlags.Write))
        {
            db.AddString(key, suffix, StringValue.EncodingFor(suffix));
            c.Modified(key, KeyspaceEvents.String, "append"u8);
            c.Reply.WriteInteger(suffix.Length);
            return;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var current))
        {
            c.WrongType();
            return;
        }
        if (!CheckStringLength(c, current.Length, suffix.Length))
        {
            return;
        }
        var mutable = ToMutable(db, entry);
        var before = mutable.MemoryBytes;
        mutable.Append(suffix);
        db.AdjustMemory(mutable.MemoryBytes - before);
        c.Modified(key, KeyspaceEvents.String, "append"u8);
        c.Reply.WriteInteger(mutable.Length);
    }

    /// <summary>The value of <paramref name="entry"/> as a <see cref="MutableString"/>, converting it in place (dbUnshareStringValue).</summary>
    internal static MutableString ToMutable(Database db, KeyRef entry)
    {
        if (entry.Item is MutableString mutable)
        {
            return mutable;
        }
        StringValue.TryGetBytes(entry.Item, out var bytes);
        mutable = MutableString.From(bytes);
        db.OverwriteValue(entry, mutable, keepTtl: true);
        return mutable;
    }

    /// <summary>Redis's checkStringLength: a result longer than proto-max-bulk-len is refused.</summary>
    internal static bool CheckStringLength(CommandContext c, long size, long append)
    {
        var total = size + append;
        if (total > c.Server.Config.ProtoMaxBulkLen.Value || total < size || total < append)
        {
            c.Error(Replies.StringTooLong);
            return false;
        }
        return true;
    }

    private static void StrLen(CommandContext c)
    {
        if (TryReadString(c, c.Arg(1), out var value, out _))
        {
            c.Reply.WriteInteger(value.Length);
        }
    }

    private static void GetRange(CommandContext c)
    {
        if (!c.TryGetLong(2, out var start) || !c.TryGetLong(3, out var end))
        {
            return;
        }
        if (!TryReadString(c, c.Arg(1), out var value, out var found))
        {
            return;
        }
        if (!found)
        {
            c.Reply.WriteLiteral("$0\r\n\r\n"u8);
            return;
        }
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            c.Reply.WriteLiteral("$0\r\n\r\n"u8);
            return;
        }
        if (start < 0)
        {
            start = length + start;
        }
        if (end < 0)
        {
            end = length + end;
        }
        start = Math.Max(0, start);
        end = Math.Max(0, end);
        if (end >= length)
        {
            end = length - 1;
        }
        if (start > end || length == 0)
        {
            c.Reply.WriteLiteral("$0\r\n\r\n"u8);
            return;
        }
        c.Reply.WriteBulk(value.Slice((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(CommandContext c)
    {
        if (!c.TryGetLong(2, out var offset))
        {
            return;
        }
        if (offset < 0)
        {
            c.Error("ERR offset is out of range");
            return;
        }
        var db = c.Db;
        var key = c.Arg(1);
        var value = c.Arg(3);
        MutableString target;
        if (!db.TryGet(key, out var entry, LookupFlags.Write))
        {
            if (value.Length == 0)
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
            if (!CheckStringLength(c, offset, value.Length))
            {
                return;
            }
            target = MutableString.Zeroed((int)offset + value.Length);
            db.Add(key, target);
        }
        else
        {
            if (!StringValue.TryGetBytes(entry.Item, out var current))
            {
                c.WrongType();
                return;
            }
            if (value.Length == 0)
            {
                c.Reply.WriteInteger(current.Length);
                return;
            }
            if (!CheckStringLength(c, offset, value.Length))
            {
                return;
            }
            target = ToMutable(db, entry);
        }
        var before = target.MemoryBytes;
        target.EnsureLength((int)offset + value.Length);
        value.CopyTo(target.Writable[(int)offset..]);
        db.AdjustMemory(target.MemoryBytes - before);
        c.Modified(key, KeyspaceEvents.String, "setrange"u8);
        c.Reply.WriteInteger(target.Length);
    }

    /// <summary>
    /// INCRBYFLOAT and HINCRBYFLOAT: the sum in Redis's human format (80-bit arithmetic), or false after replying
    /// the error Redis gives when it is not finite.
    /// </summary>
    internal static bool TryAddFloat(CommandContext c, ExtendedFloat value, ExtendedFloat increment, out byte[] text)
    {
        var result = value.Add(increment);
        if (!result.IsFinite)
        {
            c.Error("ERR increment would produce NaN or Infinity");
            text = [];
            return false;
        }
        text = System.Text.Encoding.ASCII.GetBytes(result.FormatHuman());
        return true;
    }
}
