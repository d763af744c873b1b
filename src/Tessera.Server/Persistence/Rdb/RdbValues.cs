using System.Buffers.Binary;
using Tessera.Resp;
using Tessera.Server.Config;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// Values in RDB form (rdb.c's rdbSaveObject / rdbLoadObject): written in the types Redis 7.0 writes for each
/// encoding, read in every type Redis 7.0 reads, older ziplist and zipmap forms included. A loaded value takes
/// the encoding this server's thresholds give it, as Redis converts on load.
/// </summary>
internal static class RdbValues
{
    public const byte TypeString = 0;
    public const byte TypeList = 1;
    public const byte TypeSet = 2;
    public const byte TypeZset = 3;
    public const byte TypeHash = 4;
    public const byte TypeZset2 = 5;
    public const byte TypeHashZipmap = 9;
    public const byte TypeListZiplist = 10;
    public const byte TypeSetIntset = 11;
    public const byte TypeZsetZiplist = 12;
    public const byte TypeHashZiplist = 13;
    public const byte TypeListQuicklist = 14;
    public const byte TypeHashListpack = 16;
    public const byte TypeZsetListpack = 17;
    public const byte TypeListQuicklist2 = 18;

    private const int PackedNode = 2;
    private const int PlainNode = 1;

    /// <summary>True for the value types this server reads (streams and modules are not served).</summary>
    public static bool IsValueType(byte type) => type is <= TypeZset2 or (>= TypeHashZipmap and <= TypeListQuicklist) or (>= TypeHashListpack and <= TypeListQuicklist2);

    /// <summary>Writes the value's type byte and its data (a DUMP payload's body).</summary>
    public static void Write(RdbWriter w, object item, ServerConfig config) => Write(w, item, default, withKey: false, config);

    /// <summary>Writes a key as an RDB file holds it: the value's type byte, the key, the value's data.</summary>
    public static void WriteEntry(RdbWriter w, ReadOnlySpan<byte> key, object item, ServerConfig config) => Write(w, item, key, withKey: true, config);

    private static void Write(RdbWriter w, object item, ReadOnlySpan<byte> key, bool withKey, ServerConfig config)
    {
        w.WriteByte(TypeOf(item));
        if (withKey)
        {
            w.WriteString(key);
        }
        switch (item)
        {
            case ListValue list:
                WriteList(w, list, config.ListMaxListpackSize.Value);
                break;
            case SetValue set:
                WriteSet(w, set);
                break;
            case SortedSetValue zset:
                WriteSortedSet(w, zset);
                break;
            case HashValue hash:
                WriteHash(w, hash);
                break;
            default:
                StringValue.TryGetBytes(item, out var bytes);
                w.WriteString(bytes);
                break;
        }
    }

    /// <summary>The RDB type Redis 7.0 writes for the value's encoding.</summary>
    private static byte TypeOf(object item) => item switch
    {
        ListValue => TypeListQuicklist2,
        SetValue set => set.EncodingName == "intset" ? TypeSetIntset : TypeSet,
        SortedSetValue zset => zset.EncodingName == "listpack" ? TypeZsetListpack : TypeZset2,
        HashValue hash => hash.EncodingName == "listpack" ? TypeHashListpack : TypeHash,
        _ => TypeString,
    };

    /// <summary>
    /// A quicklist of listpack nodes, split as Redis splits them: at most <c>list-max-listpack-size</c> entries per
    /// node when positive, else nodes up to 4, 8, 16, 32 or 64 KB.
    /// </summary>
    private static void WriteList(RdbWriter w, ListValue list, long fill)
    {
        var sizeLimit = fill >= 0 ? 8192 : 4096 << (int)Math.Min(4, -fill - 1);
        var nodes = new List<byte[]>();
        var state = (Nodes: nodes, Builder: new ListpackBuilder(), Bytes: 0L, Fill: fill, Limit: sizeLimit);
        list.Visit(0, backwards: false, ref state, static (element, _, ref s) =>
        {
            var grown = s.Bytes + element.Length + 11;
            if (s.Builder.Count > 0 && ((s.Fill > 0 && s.Builder.Count >= s.Fill) || grown > s.Limit))
            {
                s.Nodes.Add(s.Builder.ToArray());
                s.Builder = new ListpackBuilder();
                grown = element.Length + 11;
            }
            s.Builder.Append(element);
            s.Bytes = grown;
            return true;
        });
        if (state.Builder.Count > 0)
        {
            nodes.Add(state.Builder.ToArray());
        }
        w.WriteLength((ulong)nodes.Count);
        foreach (var node in nodes)
        {
            w.WriteLength(PackedNode);
            w.WriteString(node);
        }
    }

    private static void WriteSet(RdbWriter w, SetValue set)
    {
        var members = set.Members();
        if (set.EncodingName == "intset")
        {
            w.WriteString(LegacyEncodings.BuildIntset([.. members.Select(m => RedisInteger.TryParse(m, out var v) ? v : 0)]));
            return;
        }
        w.WriteLength((ulong)members.Count);
        foreach (var member in members)
        {
            w.WriteString(member);
        }
    }

    private static void WriteSortedSet(RdbWriter w, SortedSetValue zset)
    {
        if (zset.EncodingName == "listpack")
        {
            var builder = new ListpackBuilder();
            Span<byte> text = stackalloc byte[32];
            foreach (var (member, score) in zset.Walk(0, reverse: false))
            {
                builder.Append(member);
                builder.Append(text[..RedisDouble.Format(score, text)]);
            }
            w.WriteString(builder.ToArray());
            return;
        }
        // Highest score first, as Redis writes a skip list: loading then inserts each at the head.
        w.WriteLength((ulong)zset.Count);
        Span<byte> binary = stackalloc byte[8];
        foreach (var (member, score) in zset.Walk(zset.Count - 1, reverse: true))
        {
            w.WriteString(member);
            BinaryPrimitives.WriteDoubleLittleEndian(binary, score);
            w.Write(binary);
        }
    }

    private static void WriteHash(RdbWriter w, HashValue hash)
    {
        if (hash.EncodingName == "listpack")
        {
            var builder = new ListpackBuilder();
            hash.ForEach(ref builder, static (field, value, ref b) =>
            {
                b.Append(field);
                b.Append(value);
            });
            w.WriteString(builder.ToArray());
            return;
        }
        w.WriteLength((ulong)hash.Count);
        hash.ForEach(ref w, static (field, value, ref writer) =>
        {
            writer.WriteString(field);
            writer.WriteString(value);
        });
    }

    /// <summary>
    /// Reads a value of RDB <paramref name="type"/> for <paramref name="key"/>: the bytes of a string, or a
    /// collection (which holds its key from the start, as collections here do). A collection with nothing in it,
    /// or a malformed one, is an <see cref="RdbFormatException"/>. Every blob is bounds-checked and every
    /// collection rebuilt (duplicates refused), so nothing loaded can misbehave later; <paramref name="sanitize"/>
    /// (sanitize-dump-payload) adds the deep checks Redis makes of listpacks and intsets, and counts them.
    /// </summary>
    public static object Read(RdbReader r, byte type, ReadOnlySpan<byte> key, ServerConfig config, PayloadSanitizer? sanitize = null)
    {
        var value = type switch
        {
            TypeString => (object)r.ReadString(),
            TypeList => NewList(ReadStrings(r, r.ReadLength()), key, config),
            TypeListZiplist => NewList(LegacyEncodings.ParseZiplist(r.ReadString()), key, config),
            TypeListQuicklist or TypeListQuicklist2 => NewList(ReadQuicklist(r, type == TypeListQuicklist2, sanitize), key, config),
            TypeSet => NewSet(ReadStrings(r, r.ReadLength()), key, config),
            TypeSetIntset => NewSet(LegacyEncodings.ParseIntset(r.ReadString(), PayloadSanitizer.Deep(sanitize)), key, config),
            TypeZset or TypeZset2 => NewSortedSet(ReadScoredMembers(r, binary: type == TypeZset2), key, config),
            TypeZsetZiplist => NewSortedSet(Pairs(LegacyEncodings.ParseZiplist(r.ReadString())).Select(p => (p.First, ParseScore(p.Second))), key, config),
            TypeZsetListpack => NewSortedSet(Pairs(Listpack.Parse(r.ReadString(), PayloadSanitizer.Deep(sanitize))).Select(p => (p.First, ParseScore(p.Second))), key, config),
            TypeHash => NewHash(ReadStrings(r, CheckedPairs(r.ReadLength())), key, config),
            TypeHashZipmap => NewHash(LegacyEncodings.ParseZipmap(r.ReadString()), key, config),
            TypeHashZiplist => NewHash(LegacyEncodings.ParseZiplist(r.ReadString()), key, config),
            TypeHashListpack => NewHash(Listpack.Parse(r.ReadString(), PayloadSanitizer.Deep(sanitize)), key, config),
            _ => throw new RdbFormatException($"Unknown RDB value type {type}"),
        };
        return value is StoredValue { IsEmpty: true } ? throw new RdbFormatException("Empty keys are not allowed") : value;
    }

    private static ulong CheckedPairs(ulong pairs) => pairs <= ulong.MaxValue / 2 ? pairs * 2 : throw new RdbFormatException("Hash length out of range");

    private static List<byte[]> ReadStrings(RdbReader r, ulong count)
    {
        var strings = new List<byte[]>((int)Math.Min(count, 1 << 16));
        for (ulong i = 0; i < count; i++)
        {
            strings.Add(r.ReadString());
        }
        return strings;
    }

    private static List<byte[]> ReadQuicklist(RdbReader r, bool version2, PayloadSanitizer? sanitize)
    {
        var elements = new List<byte[]>();
        var nodes = r.ReadLength();
        for (ulong i = 0; i < nodes; i++)
        {
            var container = version2 ? r.ReadLength() : PackedNode;
            var blob = r.ReadString();
            if (container == PlainNode)
            {
                elements.Add(blob);
                continue;
            }
            if (container != PackedNode)
            {
                throw new RdbFormatException($"Quicklist integrity check failed: unknown container {container}");
            }
            elements.AddRange(version2 ? Listpack.Parse(blob, PayloadSanitizer.Deep(sanitize)) : LegacyEncodings.ParseZiplist(blob));
        }
        return elements;
    }

    private static List<(byte[] Member, double Score)> ReadScoredMembers(RdbReader r, bool binary)
    {
        var count = r.ReadLength();
        var members = new List<(byte[], double)>((int)Math.Min(count, 1 << 16));
        Span<byte> buffer = stackalloc byte[255];
        for (ulong i = 0; i < count; i++)
        {
            var member = r.ReadString();
            double score;
            if (binary)
            {
                r.Read(buffer[..8]);
                score = BinaryPrimitives.ReadDoubleLittleEndian(buffer);
            }
            else
            {
                // The old format: a length byte (253 nan, 254 +inf, 255 -inf) then the score as text.
                var length = r.ReadByte();
                if (length >= 253)
                {
                    score = length == 253 ? double.NaN : length == 254 ? double.PositiveInfinity : double.NegativeInfinity;
                }
                else
                {
                    r.Read(buffer[..length]);
                    score = ParseScore(buffer[..length].ToArray());
                }
            }
            if (double.IsNaN(score))
            {
                throw new RdbFormatException("Zset with NAN score detected");
            }
            members.Add((member, score));
        }
        return members;
    }

    private static double ParseScore(byte[] text)
        => RedisDouble.TryParse(text, out var score) ? score : throw new RdbFormatException("Bad zset score");

    private static IEnumerable<(byte[] First, byte[] Second)> Pairs(List<byte[]> elements)
    {
        if (elements.Count % 2 != 0)
        {
            throw new RdbFormatException("Odd number of elements in a paired encoding");
        }
        for (var i = 0; i < elements.Count; i += 2)
        {
            yield return (elements[i], elements[i + 1]);
        }
    }

    private static ListValue NewList(List<byte[]> elements, ReadOnlySpan<byte> key, ServerConfig config)
    {
        var list = new ListValue(config.ListMaxListpackSize.Value);
        list.SetKey(key);
        foreach (var element in elements)
        {
            list.Push(element, head: false);
        }
        return list;
    }

    private static SetValue NewSet(List<byte[]> members, ReadOnlySpan<byte> key, ServerConfig config)
    {
        var set = members.Count > 0 ? SetValue.CreateFor(members[0]) : SetValue.CreateIntset();
        set.SetKey(key);
        foreach (var member in members)
        {
            if (!set.Add(member, config.SetMaxIntsetEntries.Value))
            {
                throw new RdbFormatException("Duplicate set members detected");
            }
        }
        return set;
    }

    private static SortedSetValue NewSortedSet(IEnumerable<(byte[] Member, double Score)> members, ReadOnlySpan<byte> key, ServerConfig config)
    {
        var zset = new SortedSetValue();
        zset.SetKey(key);
        foreach (var (member, score) in members)
        {
            if (zset.Add(score, member, ZAddFlags.Nx, config.ZsetMaxListpackEntries.Value, config.ZsetMaxListpackValue.Value, out _) != ZAddResult.Added)
            {
                throw new RdbFormatException("Duplicate zset fields detected");
            }
        }
        return zset;
    }

    private static HashValue NewHash(List<byte[]> elements, ReadOnlySpan<byte> key, ServerConfig config)
    {
        var hash = new HashValue();
        hash.SetKey(key);
        foreach (var (field, value) in Pairs(elements))
        {
            hash.ConvertIfTooLong(field, config.HashMaxListpackValue.Value);
            hash.ConvertIfTooLong(value, config.HashMaxListpackValue.Value);
            if (!hash.Set(field, value, config.HashMaxListpackEntries.Value))
            {
                throw new RdbFormatException("Duplicate hash fields detected");
            }
        }
        return hash;
    }
}

/// <summary>
/// sanitize-dump-payload at work for one load: its presence asks for Redis's deep integrity checks, and it counts
/// the blobs checked (INFO dump_payload_sanitizations).
/// </summary>
internal sealed class PayloadSanitizer
{
    public long Checks { get; private set; }

    /// <summary>True (counting one check) when a blob is to be checked deeply.</summary>
    public static bool Deep(PayloadSanitizer? sanitizer)
    {
        if (sanitizer is null)
        {
            return false;
        }
        sanitizer.Checks++;
        return true;
    }
}
