using System.Runtime.CompilerServices;
using Tessera.Core.Hashing;

namespace Tessera.Server.Storage;

/// <summary>
/// One of the node's numbered databases (SELECT n): a table per hash slot, created on first use, plus the sets of
/// slots holding keys and keys with a TTL. Lookups expire keys lazily (Redis's expireIfNeeded), and the byte
/// count of keys, values and tables is kept current for used_memory and eviction.
/// Callers hold the keyspace lock.
/// </summary>
internal sealed partial class Database(Keyspace keyspace, int index)
{
    private KeyTable?[]? _tables;
    private SlotSet _occupied = new();
    private SlotSet _volatile = new();

    public int Index { get; } = index;

    /// <summary>Number of keys (expired keys not yet reclaimed included, as in Redis's DBSIZE).</summary>
    public long Count { get; private set; }

    /// <summary>Number of keys with a TTL.</summary>
    public long VolatileCount { get; private set; }

    /// <summary>Estimated heap bytes of this database's keys, values and tables.</summary>
    public long UsedMemory { get; private set; }

    public Keyspace Keyspace { get; } = keyspace;

    /// <summary>The table of <paramref name="slot"/>, or null when it holds no keys yet.</summary>
    public KeyTable? TableOf(int slot) => _tables?[slot];

    /// <summary>Hash slot and in-table hash of <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KeyLocation Locate(ReadOnlySpan<byte> key) => new(HashSlot.Of(key), (uint)KeyHash.Compute(key));

    /// <summary>Finds a key without expiring it or touching its access time.</summary>
    public bool TryFindRaw(ReadOnlySpan<byte> key, out KeyRef found) => TryFindRaw(key, Locate(key), out found);

    /// <summary>Finds a key already located, without expiring it or touching its access time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFindRaw(ReadOnlySpan<byte> key, KeyLocation location, out KeyRef found)
    {
        var table = _tables?[location.Slot];
        if (table is not null)
        {
            var i = table.Find(key, location.Hash);
            if (i >= 0)
            {
                found = new KeyRef(table, i, location.Slot);
                return true;
            }
        }
        found = default;
        return false;
    }

    /// <summary>
    /// Finds a live key: an expired one is deleted (on a master) and reported missing. Reads update the access
    /// clock and count keyspace hits and misses.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, out KeyRef found, LookupFlags flags = LookupFlags.Read)
    {
        if (TryFindRaw(key, out found))
        {
            ref var entry = ref found.Entry;
            if (entry.Expire != 0 && entry.Expire < Keyspace.Now && Keyspace.ExpireIfNeeded(this, found))
            {
                found = default;
            }
            else
            {
                if ((flags & LookupFlags.NoTouch) == 0)
                {
                    Keyspace.Touch(ref entry);
                }
                if ((flags & (LookupFlags.Write | LookupFlags.NoStats)) == 0)
                {
                    Keyspace.KeyspaceHits++;
                }
                return true;
            }
        }
        if ((flags & (LookupFlags.Write | LookupFlags.NoStats)) == 0)
        {
            Keyspace.KeyspaceMisses++;
        }
        return false;
    }

    /// <summary>Adds a key that is not present; returns where it went.</summary>
    public KeyRef Add(ReadOnlySpan<byte> key, object value, StringEncoding encoding = StringEncoding.Raw)
        => Add(key.ToArray(), Locate(key), value, encoding);

    /// <summary>Adds a key that is not present, keeping <paramref name="key"/> as the stored key.</summary>
    public KeyRef Add(byte[] key, object value, StringEncoding encoding = StringEncoding.Raw)
        => Add(key, Locate(key), value, encoding);

    /// <summary>Adds a key already located that is not present.</summary>
    public KeyRef Add(byte[] key, KeyLocation location, object value, StringEncoding encoding)
    {
        var (slot, hash) = (location.Slot, location.Hash);
        _tables ??= new KeyTable?[HashSlot.Count];
        var table = _tables[slot];
        if (table is null)
        {
            table = new KeyTable();
            _tables[slot] = table;
            UsedMemory += TableOverhead(table);
        }
        var capacity = table.Capacity;
        var index = table.Add(key, hash, value, KeyMeta.WithEncoding(Keyspace.NewAccess(), encoding));
        if (table.Count == 1)
        {
            _occupied.Add(slot);
        }
        UsedMemory += MemorySize.Of(key) + MemorySize.Of(value) + ((long)(table.Capacity - capacity) * KeyTable.EntrySize);
        Count++;
        return new KeyRef(table, index, slot);
    }

    /// <summary>Replaces the value of an existing key; its TTL is cleared unless <paramref name="keepTtl"/>.</summary>
    public void Overwrite(KeyRef key, object value, StringEncoding encoding = StringEncoding.Raw, bool keepTtl = false)
    {
        ref var entry = ref key.Entry;
        UsedMemory += MemorySize.Of(value) - MemorySize.Of(entry.Value!);
        entry.Value = value;
        entry.Meta = KeyMeta.WithEncoding(entry.Meta, encoding);
        if (!keepTtl && entry.Expire != 0)
        {
            ClearExpire(key);
        }
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, adding or overwriting (Redis's setKey).</summary>
    public KeyRef Set(ReadOnlySpan<byte> key, object value, StringEncoding encoding, bool keepTtl = false)
    {
        var location = Locate(key);
        if (TryFindLive(key, location, out var found))
        {
            Overwrite(found, value, encoding, keepTtl);
            found.Entry.Meta = KeyMeta.WithAccess(found.Entry.Meta, Keyspace.NewAccess());
            return found;
        }
        return Add(key.ToArray(), location, value, encoding);
    }

    /// <summary>
    /// SET's hot path: stores a copy of <paramref name="value"/> as a string, reusing the old value's array when it
    /// has the same length so overwriting a key allocates nothing.
    /// </summary>
    public void SetString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, StringEncoding encoding, bool keepTtl = false)
    {
        var location = Locate(key);
        if (TryFindLive(key, location, out var found))
        {
            ref var entry = ref found.Entry;
            if (entry.Value is byte[] old && old.Length == value.Length)
            {
                value.CopyTo(old);
                entry.Meta = KeyMeta.WithEncoding(KeyMeta.WithAccess(entry.Meta, Keyspace.NewAccess()), encoding);
                if (!keepTtl && entry.Expire != 0)
                {
                    ClearExpire(found);
                }
                return;
            }
            Overwrite(found, value.ToArray(), encoding, keepTtl);
            found.Entry.Meta = KeyMeta.WithAccess(found.Entry.Meta, Keyspace.NewAccess());
            return;
        }
        Add(key.ToArray(), location, value.ToArray(), encoding);
    }

    /// <summary>Finds a key for writing: an expired key is deleted first, as Redis's lookupKeyWrite does.</summary>
    private bool TryFindLive(ReadOnlySpan<byte> key, KeyLocation location, out KeyRef found)
    {
        if (!TryFindRaw(key, location, out found))
        {
            return false;
        }
        var expire = found.Entry.Expire;
        if (expire != 0 && expire < Keyspace.Now && Keyspace.ExpireIfNeeded(this, found))
        {
            // On a replica the key stays (the master deletes it); writing to it then overwrites it in place.
            return !Keyspace.IsReplica ? false : TryFindRaw(key, location, out found);
        }
        return true;
    }

    /// <summary>Notes that a value changed size in place (an APPEND, a hash field added ...).</summary>
    public void AdjustMemory(long delta) => UsedMemory += delta;

    /// <summary>Removes the key at <paramref name="key"/>.</summary>
    public void Remove(KeyRef key)
    {
        var table = key.Table;
        ref var entry = ref key.Entry;
        UsedMemory -= MemorySize.Of(entry.Key!) + MemorySize.Of(entry.Value!);
        if (entry.Expire != 0)
        {
            VolatileCount--;
            if (table.VolatileCount == 1)
            {
                _volatile.Remove(key.Slot);
            }
        }
        var capacity = table.Capacity;
        table.RemoveAt(key.Index);
        table.TryShrink();
        UsedMemory -= (long)(capacity - table.Capacity) * KeyTable.EntrySize;
        Count--;
        if (table.Count == 0)
        {
            _occupied.Remove(key.Slot);
        }
    }

    /// <summary>Deletes <paramref name="key"/> if it exists (and is not expired); true when it did.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        if (!TryGet(key, out var found, LookupFlags.Write))
        {
            return false;
        }
        Remove(found);
        return true;
    }

    /// <summary>Sets the absolute expiry (Unix ms) of an existing key.</summary>
    public void SetExpire(KeyRef key, long unixMs)
    {
        ref var entry = ref key.Entry;
        if (entry.Expire == 0)
        {
            VolatileCount++;
            key.Table.VolatileCount++;
            _volatile.Add(key.Slot);
        }
        entry.Expire = unixMs;
    }

    /// <summary>Makes an existing key persistent.</summary>
    public void ClearExpire(KeyRef key)
    {
        ref var entry = ref key.Entry;
        if (entry.Expire == 0)
        {
            return;
        }
        entry.Expire = 0;
        VolatileCount--;
        key.Table.VolatileCount--;
        if (key.Table.VolatileCount == 0)
        {
            _volatile.Remove(key.Slot);
        }
    }

    /// <summary>Drops every key (FLUSHDB); returns how many there were.</summary>
    public long Clear()
    {
        var removed = Count;
        _tables = null;
        _occupied = new SlotSet();
        _volatile = new SlotSet();
        Count = 0;
        VolatileCount = 0;
        UsedMemory = 0;
        return removed;
    }

    /// <summary>Exchanges all contents with <paramref name="other"/> (SWAPDB).</summary>
    public void SwapContents(Database other)
    {
        (_tables, other._tables) = (other._tables, _tables);
        (_occupied, other._occupied) = (other._occupied, _occupied);
        (_volatile, other._volatile) = (other._volatile, _volatile);
        (Count, other.Count) = (other.Count, Count);
        (VolatileCount, other.VolatileCount) = (other.VolatileCount, VolatileCount);
        (UsedMemory, other.UsedMemory) = (other.UsedMemory, UsedMemory);
    }

    /// <summary>A random key, or false when the database is empty.</summary>
    public bool TryGetRandom(Random random, out KeyRef key) => TryPick(_occupied, random, out key);

    /// <summary>A random key with a TTL, or false when there is none.</summary>
    public bool TryGetRandomVolatile(Random random, out KeyRef key)
    {
        if (_volatile.Count == 0)
        {
            key = default;
            return false;
        }
        // Sample until a key with a TTL turns up; slots in the set hold at least one.
        var slot = _volatile.Random(random);
        var table = _tables![slot]!;
        var i = table.RandomIndex(random);
        var mask = table.Capacity - 1;
        while (table[i].Key is null || table[i].Expire == 0)
        {
            i = (i + 1) & mask;
        }
        key = new KeyRef(table, i, slot);
        return true;
    }

    private bool TryPick(SlotSet slots, Random random, out KeyRef key)
    {
        if (slots.Count == 0)
        {
            key = default;
            return false;
        }
        var slot = slots.Random(random);
        var table = _tables![slot]!;
        key = new KeyRef(table, table.RandomIndex(random), slot);
        return true;
    }

    private static long TableOverhead(KeyTable table)
        => MemorySize.ObjectHeader + 16 + MemorySize.ObjectHeader + 8 + ((long)table.Capacity * KeyTable.EntrySize);
}
