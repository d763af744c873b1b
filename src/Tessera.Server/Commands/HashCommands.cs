using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>Hash commands (Redis's t_hash.c).</summary>
internal static class HashCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("hset", c => Set(c, countNew: true));
        r.Add("hmset", c => Set(c, countNew: false));
        r.Add("hsetnx", SetNx);
        r.Add("hget", Get);
        r.Add("hmget", MGet);
        r.Add("hgetall", c => GetAll(c, fields: true, values: true));
        r.Add("hkeys", c => GetAll(c, fields: true, values: false));
        r.Add("hvals", c => GetAll(c, fields: false, values: true));
        r.Add("hlen", c => Length(c, static (h, _) => h.Count));
        r.Add("hexists", c => Length(c, static (h, f) => h.Contains(f) ? 1 : 0));
        r.Add("hstrlen", c => Length(c, static (h, f) => h.TryGet(f, out var v) ? v.Length : 0));
        r.Add("hdel", Delete);
        r.Add("hincrby", IncrBy);
        r.Add("hincrbyfloat", IncrByFloat);
        r.Add("hrandfield", RandomField);
        r.Add("hscan", Scan);
    }

    private static HashValue NewHash() => new();

    private static void Set(CommandContext c, bool countNew)
    {
        if (c.ArgCount % 2 == 1)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGetOrCreate(key, NewHash, out var hash))
        {
            return;
        }
        var config = c.Server.Config;
        var before = hash.MemoryBytes;
        for (var i = 2; i < c.ArgCount; i++)
        {
            hash.ConvertIfTooLong(c.Arg(i), config.HashMaxListpackValue.Value);
        }
        if (hash.Count == 0 && (c.ArgCount - 2) / 2 <= config.HashMaxListpackEntries.Value)
        {
            // A new hash: size its listpack once for all the fields rather than growing it field by field.
            var bytes = 0;
            for (var i = 2; i < c.ArgCount; i++)
            {
                bytes += Storage.Structures.PackedList.EntrySize(c.Args.LengthOf(i));
            }
            hash.Reserve(bytes);
        }
        long created = 0;
        for (var i = 2; i < c.ArgCount; i += 2)
        {
            if (hash.Set(c.Arg(i), c.Arg(i + 1), config.HashMaxListpackEntries.Value))
            {
                created++;
            }
        }
        c.Changed(key, hash, before, KeyspaceEvents.Hash, "hset"u8, (c.ArgCount - 2) / 2);
        if (countNew)
        {
            c.Reply.WriteInteger(created);
        }
        else
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
    }

    private static void SetNx(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGetOrCreate(key, NewHash, out var hash))
        {
            return;
        }
        var config = c.Server.Config;
        var before = hash.MemoryBytes;
        hash.ConvertIfTooLong(c.Arg(2), config.HashMaxListpackValue.Value);
        hash.ConvertIfTooLong(c.Arg(3), config.HashMaxListpackValue.Value);
        if (hash.Contains(c.Arg(2)))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        hash.Set(c.Arg(2), c.Arg(3), config.HashMaxListpackEntries.Value);
        c.Changed(key, hash, before, KeyspaceEvents.Hash, "hset"u8);
        c.Reply.WriteLiteral(Replies.One);
    }

    private static void Get(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        if (hash is not null && hash.TryGet(c.Arg(2), out var value))
        {
            c.Reply.WriteBulk(value);
        }
        else
        {
            c.Reply.WriteNullBulk();
        }
    }

    private static void MGet(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (hash is not null && hash.TryGet(c.Arg(i), out var value))
            {
                c.Reply.WriteBulk(value);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
        }
    }

    private static void GetAll(CommandContext c, bool fields, bool values)
    {
        if (!c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        var count = hash?.Count ?? 0;
        if (fields && values)
        {
            c.Reply.WriteMapHeader(count);
        }
        else
        {
            c.Reply.WriteArrayHeader(count);
        }
        var state = (c.Reply, fields, values);
        hash?.ForEach(ref state, static (f, v, ref s) =>
        {
            if (s.fields)
            {
                s.Reply.WriteBulk(f);
            }
            if (s.values)
            {
                s.Reply.WriteBulk(v);
            }
        });
    }

    private static void Length(CommandContext c, Func<HashValue, ReadOnlySpan<byte>, long> measure)
    {
        if (!c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        c.Reply.WriteInteger(hash is null ? 0 : measure(hash, c.ArgCount > 2 ? c.Arg(2) : default));
    }

    private static void Delete(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out HashValue? hash, LookupFlags.Write))
        {
            return;
        }
        long deleted = 0;
        if (hash is not null)
        {
            var before = hash.MemoryBytes;
            for (var i = 2; i < c.ArgCount && !hash.IsEmpty; i++)
            {
                if (hash.Remove(c.Arg(i)))
                {
                    deleted++;
                }
            }
            if (deleted > 0)
            {
                c.Changed(key, hash, before, KeyspaceEvents.Hash, "hdel"u8, deleted);
            }
        }
        c.Reply.WriteInteger(deleted);
    }

    private static void IncrBy(CommandContext c)
    {
        if (!c.TryGetLong(3, out var increment))
        {
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGetOrCreate(key, NewHash, out var hash))
        {
            return;
        }
        long value = 0;
        if (hash.TryGet(c.Arg(2), out var current) && !RedisInteger.TryParse(current, out value))
        {
            c.Error("ERR hash value is not an integer");
            return;
        }
        if (!RedisInteger.TryAdd(value, increment, out value))
        {
            c.Error(Replies.Overflow);
            return;
        }
        Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
        var before = hash.MemoryBytes;
        SetResult(c, hash, text[..RedisInteger.Format(value, text)]);
        c.Changed(key, hash, before, KeyspaceEvents.Hash, "hincrby"u8);
        c.Reply.WriteInteger(value);
    }

    private static void IncrByFloat(CommandContext c)
    {
        if (!ExtendedFloat.TryParse(c.Arg(3), out var increment))
        {
            c.Error(Replies.NotFloat);
            return;
        }
        if (!increment.IsFinite)
        {
            c.Error("ERR value is NaN or Infinity");
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGetOrCreate(key, NewHash, out var hash))
        {
            return;
        }
        var value = ExtendedFloat.FromInt64(0);
        if (hash.TryGet(c.Arg(2), out var current) && !ExtendedFloat.TryParse(current, out value))
        {
            c.Error("ERR hash value is not a float");
            return;
        }
        if (!StringCommands.TryAddFloat(c, value, increment, out var text))
        {
            return;
        }
        var before = hash.MemoryBytes;
        SetResult(c, hash, text);
        c.Changed(key, hash, before, KeyspaceEvents.Hash, "hincrbyfloat"u8);
        if (c.Propagating)
        {
            c.PropagateAs("HSET"u8.ToArray(), key.ToArray(), c.Arg(2).ToArray(), text.ToArray());
        }
        c.Reply.WriteBulk(text);
    }

    /// <summary>
    /// Stores an increment's result in field argument 2. As Redis's hashTypeSet, a field or result too long for
    /// the listpack converts the hash first (HSET checks its arguments up front instead).
    /// </summary>
    private static void SetResult(CommandContext c, HashValue hash, ReadOnlySpan<byte> result)
    {
        var config = c.Server.Config;
        hash.ConvertIfTooLong(c.Arg(2), config.HashMaxListpackValue.Value);
        hash.ConvertIfTooLong(result, config.HashMaxListpackValue.Value);
        hash.Set(c.Arg(2), result, config.HashMaxListpackEntries.Value);
    }

    private static void RandomField(CommandContext c)
    {
        if (c.ArgCount == 2)
        {
            RandomSample.ReplyOne<HashValue>(c, static (hash, random) => hash.Random(random).Field);
            return;
        }
        if (!RandomSample.TryParseCountAndPairs(c, "withvalues"u8, out var requested, out var withValues) || !c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        if (hash is null || requested == 0)
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
            return;
        }
        var w = c.Reply;
        var count = requested < 0 ? -requested : Math.Min(requested, hash.Count);
        w.WriteArrayHeader(withValues && w.Protocol == 2 ? count * 2 : count);
        if (requested < 0)
        {
            // Drawn with repetition and written as drawn: the reply, not a list, holds the elements.
            for (var i = 0L; i < count && !c.ReplyLimitReached(); i++)
            {
                WriteField(w, hash, hash.RandomPosition(c.Keyspace.Random), withValues);
            }
            return;
        }
        var positions = new List<long>();
        if (requested >= hash.Count)
        {
            hash.AddPositions(positions);
        }
        else
        {
            positions = RandomSample.Distinct(hash, requested, c.Keyspace.Random);
        }
        foreach (var position in positions)
        {
            WriteField(w, hash, position, withValues);
        }
    }

    /// <summary>A field (and its value, as a pair in RESP3 or flat in RESP2) for HRANDFIELD.</summary>
    private static void WriteField(RespWriter w, HashValue hash, long position, bool withValues)
    {
        var field = hash.At(position, out var value);
        if (withValues && w.Protocol == 3)
        {
            w.WriteArrayHeader(2);
        }
        w.WriteBulk(field);
        if (withValues)
        {
            w.WriteBulk(value);
        }
    }

    private static void Scan(CommandContext c)
    {
        if (!ScanOptions.TryParse(c, 2, allowType: false, out var options) || !c.TryGet(c.Arg(1), out HashValue? hash))
        {
            return;
        }
        var found = new List<(byte[] Field, byte[] Value)>();
        var next = hash?.Scan(options.Cursor, options.Count, found) ?? 0;
        var kept = found.Where(p => options.Matches(c, p.Field)).ToList();
        ScanOptions.WriteCursor(c, next, kept.Count * 2);
        foreach (var (field, value) in kept)
        {
            c.Reply.WriteBulk(field);
            c.Reply.WriteBulk(value);
        }
    }
}
