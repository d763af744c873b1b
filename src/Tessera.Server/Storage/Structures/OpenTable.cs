using System.Runtime.CompilerServices;

namespace Tessera.Server.Storage.Structures;

/// <summary>How an <see cref="OpenTable{T, TKey}"/> reads the key of an item it stores.</summary>
internal interface IKeySelector<in T>
{
    static abstract ReadOnlySpan<byte> KeyOf(T item);
}

/// <summary>
/// An open-addressing hash table of items that carry their own key (linear probing, backward-shift deletion,
/// at most 80% full). Entries are 16 bytes: the item, its key's hash, and 32 spare bits. An optional parallel
/// array of longs ("side" values, e.g. key expiry times) is created only when a non-zero value is stored.
/// SCAN-style iteration visits home buckets in reverse-binary order, so an item present throughout an iteration
/// is returned even if the table grows or shrinks between calls. Backs the keyspace, big hashes, sets and the
/// member index of sorted sets.
/// </summary>
internal class OpenTable<T, TKey>
    where T : class
    where TKey : IKeySelector<T>
{
    /// <summary>One slot; <see cref="Item"/> is null when empty.</summary>
    internal struct Entry
    {
        public T? Item;
        public uint Hash;

        /// <summary>Spare bits for the owner (the keyspace keeps LRU/LFU and encoding here).</summary>
        public uint Extra;
    }

    /// <summary>Bytes of one entry.</summary>
    public const int EntrySize = 16;

    private const int MinCapacity = 4;

    private Entry[] _entries = new Entry[MinCapacity];
    private long[]? _side;

    /// <summary>Number of items.</summary>
    public int Count { get; private set; }

    /// <summary>Number of non-zero side values.</summary>
    public int SideCount { get; private set; }

    /// <summary>Number of slots (a power of two).</summary>
    public int Capacity => _entries.Length;

    /// <summary>Heap bytes of the slot and side arrays.</summary>
    public long ArrayBytes => ((long)_entries.Length * EntrySize) + (_side is null ? 0 : (long)_side.Length * 8);

    /// <summary>The slot at <paramref name="index"/>.</summary>
    public ref Entry this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index];
    }

    /// <summary>The hash tables use for <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashOf(ReadOnlySpan<byte> key) => (uint)Tessera.Core.Hashing.KeyHash.Compute(key);

    /// <summary>Index of the item whose key is <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> key, uint hash)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        var i = (int)(hash & (uint)mask);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Item is null)
            {
                return -1;
            }
            if (e.Hash == hash && TKey.KeyOf(e.Item).SequenceEqual(key))
            {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Index of <paramref name="key"/>, hashing it here.</summary>
    public int Find(ReadOnlySpan<byte> key) => Find(key, HashOf(key));

    /// <summary>Adds an item whose key is absent; returns its index. May grow the table (indices change).</summary>
    public int Add(T item, uint hash, uint extra = 0)
    {
        if ((Count + 1) * 5 > _entries.Length * 4)
        {
            Resize(_entries.Length * 2);
        }
        var mask = _entries.Length - 1;
        var i = (int)(hash & (uint)mask);
        while (_entries[i].Item is not null)
        {
            i = (i + 1) & mask;
        }
        _entries[i] = new Entry { Item = item, Hash = hash, Extra = extra };
        Count++;
        return i;
    }

    /// <summary>Grows the table at once to hold <paramref name="count"/> items without growing again.</summary>
    public void Reserve(int count)
    {
        var capacity = _entries.Length;
        while (count * 5 > capacity * 4)
        {
            capacity *= 2;
        }
        if (capacity > _entries.Length)
        {
            Resize(capacity);
        }
    }

    /// <summary>Adds an item, hashing its key here.</summary>
    public int Add(T item) => Add(item, HashOf(TKey.KeyOf(item)));

    /// <summary>The side value of the slot at <paramref name="index"/>, 0 when none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long SideAt(int index) => _side is null ? 0 : _side[index];

    /// <summary>Sets or clears (0) the side value of the slot at <paramref name="index"/>.</summary>
    public void SetSide(int index, long value)
    {
        var old = SideAt(index);
        if (value != 0)
        {
            _side ??= new long[_entries.Length];
            _side[index] = value;
            if (old == 0)
            {
                SideCount++;
            }
        }
        else if (old != 0)
        {
            _side![index] = 0;
            if (--SideCount == 0)
            {
                _side = null;
            }
        }
    }

    /// <summary>Removes the item at <paramref name="index"/>, shifting later items of its run back.</summary>
    public void RemoveAt(int index)
    {
        SetSide(index, 0);
        var entries = _entries;
        var side = _side;
        var mask = entries.Length - 1;
        var hole = index;
        var i = index;
        while (true)
        {
            i = (i + 1) & mask;
            ref var e = ref entries[i];
            if (e.Item is null)
            {
                break;
            }
            // An item may move into the hole only if the hole lies between its home and its position.
            var home = (int)(e.Hash & (uint)mask);
            if (((hole - home) & mask) < ((i - home) & mask))
            {
                entries[hole] = e;
                if (side is not null)
                {
                    side[hole] = side[i];
                    side[i] = 0;
                }
                hole = i;
            }
        }
        entries[hole] = default;
        Count--;
    }

    /// <summary>Removes the item with <paramref name="key"/>; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> key)
    {
        var i = Find(key);
        if (i < 0)
        {
            return false;
        }
        RemoveAt(i);
        TryShrink();
        return true;
    }

    /// <summary>Halves the table while it is less than 1/8 full (never during an index-based walk).</summary>
    public void TryShrink()
    {
        var capacity = _entries.Length;
        while (capacity > MinCapacity && Count * 8 < capacity)
        {
            capacity /= 2;
        }
        if (capacity != _entries.Length)
        {
            Resize(capacity);
        }
    }

    /// <summary>Sizes the table for <paramref name="count"/> items at once (bulk loads, conversions).</summary>
    public void EnsureCapacity(int count)
    {
        var capacity = _entries.Length;
        while (count * 5 > capacity * 4)
        {
            capacity *= 2;
        }
        if (capacity != _entries.Length)
        {
            Resize(capacity);
        }
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with the index of every item whose home bucket is <paramref name="bucket"/>
    /// (they lie in the run of occupied slots starting there).
    /// </summary>
    public void VisitBucket<TState>(int bucket, ref TState state, BucketVisitor<T, TKey, TState> visit)
    {
        var mask = _entries.Length - 1;
        var i = bucket & mask;
        for (var n = 0; n <= mask; n++, i = (i + 1) & mask)
        {
            if (_entries[i].Item is null)
            {
                return;
            }
            if ((_entries[i].Hash & (uint)mask) == (uint)(bucket & mask))
            {
                visit(this, i, ref state);
            }
        }
    }

    /// <summary>
    /// One SCAN step: visits buckets from <paramref name="cursor"/> until about <paramref name="count"/> items
    /// were reported or 10 x count buckets were visited; returns the next cursor, 0 when done.
    /// </summary>
    public ulong Scan<TState>(ulong cursor, long count, ref TState state, BucketVisitor<T, TKey, TState> visit, Func<TState, long> reported)
    {
        if (Count == 0)
        {
            return 0;
        }
        var mask = (uint)_entries.Length - 1;
        var bucket = (uint)cursor;
        var visited = 0L;
        var maxVisits = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        do
        {
            VisitBucket((int)(bucket & mask), ref state, visit);
            bucket = ScanCursor.Next(bucket, mask);
            visited++;
        }
        while (bucket != 0 && reported(state) < count && visited < maxVisits);
        return bucket;
    }

    /// <summary>
    /// Index of a random occupied slot, every item equally likely (as Redis's dictGetFairRandomKey): random slots
    /// are drawn until one is occupied, which takes a few draws at the load factors the table keeps. Only a
    /// table left very sparse falls back to walking on from the last draw, which favours items after gaps.
    /// </summary>
    public int RandomIndex(Random random)
    {
        var mask = _entries.Length - 1;
        var i = random.Next(_entries.Length);
        for (var draws = 1; _entries[i].Item is null && draws < 64; draws++)
        {
            i = random.Next(_entries.Length);
        }
        while (_entries[i].Item is null)
        {
            i = (i + 1) & mask;
        }
        return i;
    }

    /// <summary>Adds the index of every occupied slot, in slot order.</summary>
    public void AddOccupied(List<long> indexes)
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Item is not null)
            {
                indexes.Add(i);
            }
        }
    }

    /// <summary>Every item, in slot order.</summary>
    public IEnumerable<T> Items()
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Item is { } item)
            {
                yield return item;
            }
        }
    }

    private void Resize(int capacity)
    {
        var old = _entries;
        var oldSide = _side;
        var entries = new Entry[capacity];
        var side = oldSide is null ? null : new long[capacity];
        var mask = capacity - 1;
        for (var j = 0; j < old.Length; j++)
        {
            ref var e = ref old[j];
            if (e.Item is null)
            {
                continue;
            }
            var i = (int)(e.Hash & (uint)mask);
            while (entries[i].Item is not null)
            {
                i = (i + 1) & mask;
            }
            entries[i] = e;
            if (side is not null)
            {
                side[i] = oldSide![j];
            }
        }
        _entries = entries;
        _side = side;
    }
}

/// <summary>Callback of <see cref="OpenTable{T, TKey}.VisitBucket{TState}"/>.</summary>
internal delegate void BucketVisitor<T, TKey, TState>(OpenTable<T, TKey> table, int index, ref TState state)
    where T : class
    where TKey : IKeySelector<T>;

/// <summary>Reverse-binary cursor increments, Redis's dictScan scheme.</summary>
internal static class ScanCursor
{
    /// <summary>The bucket after <paramref name="bucket"/> under <paramref name="mask"/>; 0 after the last.</summary>
    public static uint Next(uint bucket, uint mask)
    {
        bucket |= ~mask;
        bucket = ReverseBits(bucket);
        bucket++;
        return ReverseBits(bucket);
    }

    private static uint ReverseBits(uint v)
    {
        v = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1);
        v = ((v >> 2) & 0x33333333) | ((v & 0x33333333) << 2);
        v = ((v >> 4) & 0x0F0F0F0F) | ((v & 0x0F0F0F0F) << 4);
        v = ((v >> 8) & 0x00FF00FF) | ((v & 0x00FF00FF) << 8);
        return (v >> 16) | (v << 16);
    }
}
