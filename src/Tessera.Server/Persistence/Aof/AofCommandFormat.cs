using Tessera.Resp;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Persistence.Aof;

/// <summary>
/// An AOF base in command form (<c>aof-use-rdb-preamble no</c>), as Redis's rewriteAppendOnlyFileRio writes it:
/// FUNCTION LOAD per library, SELECT per database, then per key the commands that rebuild it (SET, RPUSH, SADD,
/// ZADD, HMSET with at most 64 elements each) and PEXPIREAT for its TTL.
/// </summary>
internal sealed class AofCommandFormat(IReadOnlyList<byte[]> libraries) : ISnapshotFormat
{
    private const int ItemsPerCommand = 64;

    public SlotSerializer Slot => WriteTable;

    public void Begin(Stream file)
    {
        var w = new RespWriter();
        foreach (var code in libraries)
        {
            w.WriteArrayHeader(3);
            w.WriteBulk("FUNCTION"u8);
            w.WriteBulk("LOAD"u8);
            w.WriteBulk(code);
        }
        Drain(w, file);
    }

    public void BeginDatabase(Stream file, int index, long keys, long volatileKeys)
    {
        var w = new RespWriter();
        w.WriteArrayHeader(2);
        w.WriteBulk("SELECT"u8);
        w.WriteBulk(index);
        Drain(w, file);
    }

    public void Write(Stream file, ReadOnlySpan<byte> slots) => file.Write(slots);

    public void End(Stream file)
    {
    }

    private static void WriteTable(KeyTable table, Stream output)
    {
        var w = new RespWriter();
        for (var i = 0; i < table.Capacity; i++)
        {
            if (table[i].Item is not { } item)
            {
                continue;
            }
            var key = KeyTable.KeyOf(item);
            WriteValue(w, key, item);
            if (table.ExpireAt(i) is var expire and not 0)
            {
                w.WriteArrayHeader(3);
                w.WriteBulk("PEXPIREAT"u8);
                w.WriteBulk(key);
                w.WriteBulk(expire);
            }
        }
        Drain(w, output);
    }

    private static void WriteValue(RespWriter w, ReadOnlySpan<byte> key, object item)
    {
        switch (item)
        {
            case ListValue list:
                var elements = new Batches(w, "RPUSH"u8.ToArray(), key.ToArray(), list.Count, 1);
                list.Visit(0, backwards: false, ref elements, static (element, _, ref b) =>
                {
                    b.Add(element, []);
                    return true;
                });
                break;
            case SetValue set:
                var members = new Batches(w, "SADD"u8.ToArray(), key.ToArray(), set.Count, 1);
                foreach (var member in set.Members())
                {
                    members.Add(member, []);
                }
                break;
            case SortedSetValue zset:
                var scored = new Batches(w, "ZADD"u8.ToArray(), key.ToArray(), zset.Count, 2);
                Span<byte> score = stackalloc byte[32];
                foreach (var (member, value) in zset.Walk(0, reverse: false))
                {
                    scored.Add(score[..RedisDouble.Format(value, score)], member);
                }
                break;
            case HashValue hash:
                var fields = new Batches(w, "HMSET"u8.ToArray(), key.ToArray(), hash.Count, 2);
                hash.ForEach(ref fields, static (field, value, ref b) => b.Add(field, value));
                break;
            default:
                StringValue.TryGetBytes(item, out var bytes);
                w.WriteArrayHeader(3);
                w.WriteBulk("SET"u8);
                w.WriteBulk(key);
                w.WriteBulk(bytes);
                break;
        }
    }

    private static void Drain(RespWriter w, Stream output)
    {
        while (!w.IsEmpty)
        {
            var chunk = w.PeekFirst();
            output.Write(chunk);
            w.Consume(chunk.Length);
        }
    }

    /// <summary>Elements of one collection spread over commands of at most <see cref="ItemsPerCommand"/> each.</summary>
    private struct Batches(RespWriter w, byte[] command, byte[] key, long total, int argumentsPerItem)
    {
        private long _left = total;
        private int _inCommand;

        public void Add(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
        {
            if (_inCommand == 0)
            {
                _inCommand = (int)Math.Min(ItemsPerCommand, _left);
                w.WriteArrayHeader(2 + (_inCommand * argumentsPerItem));
                w.WriteBulk(command);
                w.WriteBulk(key);
            }
            w.WriteBulk(first);
            if (argumentsPerItem == 2)
            {
                w.WriteBulk(second);
            }
            _inCommand--;
            _left--;
        }
    }
}
