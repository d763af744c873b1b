using System.Runtime.CompilerServices;
using Tessera.Core.Hashing;

namespace Tessera.Server.Storage;

/// <summary>
/// One of the node's numbered databases (SELECT n): a table per hash slot, created on first use, plus the sets of
/// slots holding keys and keys with a TTL. Lookups expire keys lazily (Redis's expireIfNeeded), and the byte
/// count of keys, values and tables is kept current for used_memory and eviction.
/// Callers hold the execution lock.
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

    /// <summary>The slot tables (null before the first key), for a <see cref="KeyspaceSnapshot"/> to capture.</summary>
    public KeyTable?[]? Tables => _tables;

    /// <summary>Called before a command changes the value of <paramref name="key"/> in place (a background save may still need the old one).</summary>
    public void BeforeValueChange(ReadOnlySpan<byte> key)
    {
        if (Keyspace.Snapshot is not null)
        {
            BeforeChange(HashSlot.Of(key));
        }
    }

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

    /// <summary>True when the key is stored, expired or not.</summary>
    public bool Exists(ReadOnlySpan<byte> key) => TryFindRaw(key, out _);

    /// <summary>True when the key is stored with a deadline already past (Redis's keyIsExpired).</summary>
    public bool IsLogicallyExpired(ReadOnlySpan<byte> key)
        => TryFindRaw(key, out var found) && found.Expire != 0 && found.Expire < Keyspace.Now;

    /// <summary>
    /// Finds a live key: an expired one is deleted (on a master) and reported missing. Reads update the access
    /// clock and count keyspace hits and misses.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, out KeyRef found, LookupFlags flags = LookupFlags.Read)
    {
        if (TryFindRaw(key, out found))
        {
            var expire = found.Expire;
            if (expire != 0 && expire < Keyspace.Now && Keyspace.ExpireIfNeeded(this, found))
            {
                found = default;
            }
            else
            {
                if ((flags & LookupFlags.NoTouch) == 0)
                {
                    Keyspace.Touch(ref found.Entry);
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
            Keyspace.KeyMissed?.Invoke(this, key);
        }
        return false;
    }

    /// <summary>
    /// Every stored entry, expired or not, slot by slot (snapshots, digests). The database must not change while
    /// this is enumerated.
    /// </summary>
    public IEnumerable<KeyRef> Entries()
    {
        for (var slot = 0; slot < HashSlot.Count && _tables is not null; slot++)
        {
            var table = _tables[slot];
            for (var i = 0; table is not null && i < table.Capacity; i++)
            {
                if (table[i].Item is not null)
                {
                    yield return new KeyRef(table, i, slot);
                }
            }
        }
    }

    /// <summary>Adds a string key that is not present.</summary>
    public KeyRef AddString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, StringEncoding encoding)
        => AddItem(PackedString.Create(key, value, Keyspace.StringPool), Locate(key), KeyMeta.WithEncoding(Keyspace.NewAccess(), encoding));

    /// <summary>Adds a key holding <paramref name="value"/> (not present yet); the value takes the key.</summary>
    public KeyRef Add(ReadOnlySpan<byte> key, StoredValue value)
    {
        value.SetKey(key);
        return AddItem(value, Locate(key), Keyspace.NewAccess());
    }

    /// <summary>Adds an item (which already holds its key) with the given metadata; RENAME and MOVE use it directly.</summary>
    public KeyRef AddItem(object item, KeyLocation location, uint meta)
    {
        var slot = location.Slot;
        BeforeChange(slot);
        _tables ??= new KeyTable?[HashSlot.Count];
        var table = _tables[slot];
        if (table is null)
        {
            table = new KeyTable();
            _tables[slot] = table;
            UsedMemory += TableOverhead;
        }
        var before = table.ArrayBytes;
        var index = table.Add(item, location.Hash, meta);
        if (table.Count == 1)
        {
            _occupied.Add(slot);
        }
        UsedMemory += MemorySize.Of(item) + table.ArrayBytes - before;
        Count++;
        if (item is StoredValue collection)
        {
            Keyspace.CollectionAdded?.Invoke(this, collection);
        }
        var added = new KeyRef(table, index, slot);
        Keyspace.KeyAdded?.Invoke(this, added.Key);
        return added;
    }

    /// <summary>
    /// A snapshot's RESIZEDB: sizes every slot's table for its share of <paramref name="keys"/> up front, so a
    /// large load does not grow each table step by step (rehashing, and leaving the smaller arrays as garbage).
    /// Small databases are left to grow as keys arrive.
    /// </summary>
    public void Reserve(long keys)
    {
        var perSlot = keys / HashSlot.Count;
        if (perSlot < 8)
        {
            return;
        }
        _tables ??= new KeyTable?[HashSlot.Count];
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_tables[slot] is null)
            {
                var table = new KeyTable();
                var initial = table.ArrayBytes;
                // Slots differ in size by a few standard deviations (about the square root of the share).
                table.Reserve((int)Math.Min(int.MaxValue / 2, perSlot + (3 * (long)Math.Sqrt(perSlot))));
                _tables[slot] = table;
                UsedMemory += TableOverhead + table.ArrayBytes - initial;
            }
        }
    }

    /// <summary>Replaces a key's string value; its TTL is cleared unless <paramref name="keepTtl"/>.</summary>
    public void OverwriteString(KeyRef key, ReadOnlySpan<byte> value, StringEncoding encoding, bool keepTtl)
    {
        BeforeChange(key.Slot);
        ref var entry = ref key.Entry;
        if (entry.Item is byte[] packed && PackedString.Value(packed).Length == value.Length)
        {
            // Same length: rewrite in place, no allocation.
            value.CopyTo(PackedString.WritableValue(packed));
        }
        else
        {
            var replacement = PackedString.Create(key.Key, value, Keyspace.StringPool);
            UsedMemory += MemorySize.Of(replacement) - MemorySize.Of(entry.Item!);
            if (entry.Item is byte[] old)
            {
                Keyspace.StringPool.Return(old);
            }
            entry.Item = replacement;
        }
        entry.Extra = KeyMeta.WithEncoding(KeyMeta.WithAccess(entry.Extra, Keyspace.NewAccess()), encoding);
        if (!keepTtl)
        {
            ClearExpire(key);
        }
    }

    /// <summary>Replaces a key's value with <paramref name="value"/>, which takes the key.</summary>
    public void OverwriteValue(KeyRef key, StoredValue value, bool keepTtl)
    {
        BeforeChange(key.Slot);
        ref var entry = ref key.Entry;
        value.SetKey(entry.Item is StoredValue old ? old.Key : key.Key);
        UsedMemory += MemorySize.Of(value) - MemorySize.Of(entry.Item!);
        entry.Item = value;
        entry.Extra = KeyMeta.WithEncoding(entry.Extra, StringEncoding.Raw);
        if (!keepTtl)
        {
            ClearExpire(key);
        }
    }

    /// <summary>SET's hot path: stores <paramref name="value"/> as a string, adding or overwriting (Redis's setKey).</summary>
    public void SetString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, StringEncoding encoding, bool keepTtl = false)
    {
        var location = Locate(key);
        if (TryFindLive(key, location, out var found))
        {
            OverwriteString(found, value, encoding, keepTtl);
            return;
        }
        AddItem(PackedString.Create(key, value, Keyspace.StringPool), location, KeyMeta.WithEncoding(Keyspace.NewAccess(), encoding));
    }

    /// <summary>Stores <paramref name="value"/> at <paramref name="key"/>, adding or overwriting.</summary>
    public KeyRef Set(ReadOnlySpan<byte> key, StoredValue value, bool keepTtl = false)
    {
        var location = Locate(key);
        if (TryFindLive(key, location, out var found))
        {
            OverwriteValue(found, value, keepTtl);
            found.Entry.Extra = KeyMeta.WithAccess(found.Entry.Extra, Keyspace.NewAccess());
            return found;
        }
        value.SetKey(key);
        return AddItem(value, location, Keyspace.NewAccess());
    }

    /// <summary>Notes that a value changed size in place (an APPEND, a hash field added ...).</summary>
    public void AdjustMemory(long delta) => UsedMemory += delta;

    /// <summary>
    /// Removes the key at <paramref name="key"/>. With <paramref name="recycle"/> the caller promises it keeps no
    /// reference to the value, so a packed string's array can be reused for a new value.
    /// </summary>
    public void Remove(KeyRef key, bool recycle = false)
    {
        BeforeChange(key.Slot);
        var table = key.Table;
        var item = key.Item;
        UsedMemory -= MemorySize.Of(item);
        if (key.Expire != 0)
        {
            VolatileCount--;
            if (table.VolatileCount == 1)
            {
                _volatile.Remove(key.Slot);
            }
        }
        var before = table.ArrayBytes;
        table.RemoveAt(key.Index);
        table.TryShrink();
        UsedMemory += table.ArrayBytes - before;
        Count--;
        if (table.Count == 0)
        {
            _occupied.Remove(key.Slot);
        }
        if (recycle && item is byte[] packed)
        {
            Keyspace.StringPool.Return(packed);
        }
    }

    /// <summary>Deletes <paramref name="key"/> if it exists (and is not expired); true when it did.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        if (!TryGet(key, out var found, LookupFlags.Write))
        {
            return false;
        }
        Remove(found, recycle: true);
        return true;
    }

    /// <summary>Sets the absolute expiry (Unix ms) of an existing key.</summary>
    public void SetExpire(KeyRef key, long unixMs)
    {
        BeforeChange(key.Slot);
        var table = key.Table;
        if (key.Expire == 0)
        {
            VolatileCount++;
            _volatile.Add(key.Slot);
        }
        var before = table.ArrayBytes;
        table.SetExpire(key.Index, unixMs);
        UsedMemory += table.ArrayBytes - before;
    }

    /// <summary>Makes an existing key persistent.</summary>
    public void ClearExpire(KeyRef key)
    {
        if (key.Expire == 0)
        {
            return;
        }
        BeforeChange(key.Slot);
        var table = key.Table;
        var before = table.ArrayBytes;
        table.SetExpire(key.Index, 0);
        UsedMemory += table.ArrayBytes - before;
        VolatileCount--;
        if (table.VolatileCount == 0)
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
        AverageTtl = 0;
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
        (AverageTtl, other.AverageTtl) = (other.AverageTtl, AverageTtl);
    }

    /// <summary>A random key, or false when the database is empty.</summary>
    public bool TryGetRandom(Random random, out KeyRef key)
    {
        if (_occupied.Count == 0)
        {
            key = default;
            return false;
        }
        var slot = _occupied.Random(random);
        var table = _tables![slot]!;
        key = new KeyRef(table, table.RandomIndex(random), slot);
        return true;
    }

    /// <summary>A random key with a TTL, or false when there is none.</summary>
    public bool TryGetRandomVolatile(Random random, out KeyRef key)
    {
        if (_volatile.Count == 0)
        {
            key = default;
            return false;
        }
        // Slots in the set hold at least one key with a TTL: walk from a random entry to it.
        var slot = _volatile.Random(random);
        var table = _tables![slot]!;
        var i = table.RandomIndex(random);
        var mask = table.Capacity - 1;
        while (table[i].Item is null || table.ExpireAt(i) == 0)
        {
            i = (i + 1) & mask;
        }
        key = new KeyRef(table, i, slot);
        return true;
    }

    /// <summary>Finds a key for writing: an expired key is deleted first, as Redis's lookupKeyWrite does.</summary>
    private bool TryFindLive(ReadOnlySpan<byte> key, KeyLocation location, out KeyRef found)
    {
        if (!TryFindRaw(key, location, out found))
        {
            return false;
        }
        var expire = found.Expire;
        if (expire != 0 && expire < Keyspace.Now && Keyspace.ExpireIfNeeded(this, found))
        {
            // A replica keeps the expired key (its master deletes it) and overwrites it in place.
            return Keyspace.IsReplica;
        }
        return true;
    }

    /// <summary>Lets an active <see cref="KeyspaceSnapshot"/> read the slot before it changes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeforeChange(int slot)
    {
        if (Keyspace.Snapshot is { } snapshot && _tables is not null)
        {
            snapshot.BeforeChange(_tables, slot);
        }
    }

    /// <summary>Heap bytes of a table object and its arrays' headers (the entries themselves are counted apart).</summary>
    private const long TableOverhead = 64;
}
