using System.Diagnostics;
using Tessera.Core.Hashing;

namespace Tessera.Server.Storage;

/// <summary>Serializes the keys of one slot table (RDB entries, or AOF commands) to <paramref name="output"/>.</summary>
internal delegate void SlotSerializer(KeyTable table, Stream output);

/// <summary>
/// A point-in-time view of every database, for a background save or AOF rewrite while clients keep writing.
/// .NET has no fork, so copy-on-write is done at slot granularity: the slot tables of each database are
/// captured when the view is taken, and before a write changes a slot the view has not read yet, that slot is
/// serialized first and its bytes kept until the writer thread reaches it. Every slot is therefore read
/// exactly once, in the state it had when the view was taken. A slot holds ~1/16384 of a database, so a write
/// pays at most one small serialization, and the writer takes the execution lock only for short chunks.
/// Used under the execution lock.
/// </summary>
internal sealed class KeyspaceSnapshot
{
    private readonly KeyTable?[]?[] _tables;
    private readonly ulong[][] _taken;
    private readonly Dictionary<int, byte[]>[] _early;
    private readonly SlotSerializer _serialize;
    private readonly MemoryStream _scratch = new();

    public KeyspaceSnapshot(Keyspace keyspace, SlotSerializer serialize)
    {
        var count = keyspace.Databases.Length;
        _tables = new KeyTable?[]?[count];
        _taken = new ulong[count][];
        _early = new Dictionary<int, byte[]>[count];
        Keys = new long[count];
        VolatileKeys = new long[count];
        for (var i = 0; i < count; i++)
        {
            var db = keyspace.Databases[i];
            _tables[i] = db.Count == 0 ? null : db.Tables;
            _taken[i] = new ulong[HashSlot.Count / 64];
            _early[i] = [];
            Keys[i] = db.Count;
            VolatileKeys[i] = db.VolatileCount;
        }
        _serialize = serialize;
    }

    /// <summary>Keys of each database when the view was taken.</summary>
    public long[] Keys { get; }

    /// <summary>Keys with a TTL of each database when the view was taken.</summary>
    public long[] VolatileKeys { get; }

    /// <summary>Bytes serialized early because a write came first (INFO's copy-on-write size).</summary>
    public long CopiedBytes { get; private set; }

    /// <summary>Keys serialized so far (INFO current_save_keys_processed).</summary>
    public long KeysProcessed { get; private set; }

    /// <summary>True when database <paramref name="db"/> had keys when the view was taken.</summary>
    public bool HasKeys(int db) => _tables[db] is not null;

    /// <summary>
    /// Called before slot <paramref name="slot"/> of the table array <paramref name="tables"/> changes: if the view
    /// still needs that slot as it is, it is serialized now. Arrays are matched by reference, so SWAPDB and
    /// FLUSHDB (which swap or detach whole arrays) need no special case.
    /// </summary>
    public void BeforeChange(KeyTable?[] tables, int slot)
    {
        for (var db = 0; db < _tables.Length; db++)
        {
            if (ReferenceEquals(_tables[db], tables))
            {
                if (TryTake(db, slot) && tables[slot] is { Count: > 0 } table)
                {
                    _scratch.SetLength(0);
                    Serialize(table, _scratch);
                    var bytes = _scratch.ToArray();
                    _early[db][slot] = bytes;
                    CopiedBytes += bytes.Length;
                }
                return;
            }
        }
    }

    /// <summary>
    /// Appends to <paramref name="output"/> the serialized slots of database <paramref name="db"/> from
    /// <paramref name="slot"/> on, stopping once <paramref name="budget"/> has passed; returns the next slot to read.
    /// </summary>
    public int Read(int db, int slot, Stream output, TimeSpan budget)
    {
        var tables = _tables[db]!;
        var deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        for (; slot < HashSlot.Count && Stopwatch.GetTimestamp() < deadline; slot++)
        {
            if (TryTake(db, slot))
            {
                if (tables[slot] is { Count: > 0 } table)
                {
                    Serialize(table, output);
                }
            }
            else if (_early[db].Remove(slot, out var bytes))
            {
                output.Write(bytes);
            }
        }
        return slot;
    }

    private void Serialize(KeyTable table, Stream output)
    {
        _serialize(table, output);
        KeysProcessed += table.Count;
    }

    /// <summary>Marks a slot as read; false when it already was.</summary>
    private bool TryTake(int db, int slot)
    {
        ref var word = ref _taken[db][slot >> 6];
        var bit = 1UL << (slot & 63);
        if ((word & bit) != 0)
        {
            return false;
        }
        word |= bit;
        return true;
    }
}
