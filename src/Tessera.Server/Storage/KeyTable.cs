using System.Runtime.CompilerServices;

namespace Tessera.Server.Storage;

/// <summary>
/// The keys of one hash slot of one database: an open-addressing table (linear probing, backward-shift deletion)
/// of 32-byte entries holding key, value, expiry and metadata side by side. A database is 16384 of these, so
/// growth rehashes one slot's keys at a time and never stalls on millions, and a slot's keys can be counted, listed
/// and migrated directly.
/// </summary>
internal sealed class KeyTable
{
    /// <summary>One key. <see cref="Key"/> is null in an empty entry.</summary>
    internal struct Entry
    {
        public byte[]? Key;
        public object? Value;

        /// <summary>Absolute expiry in Unix milliseconds; 0 when the key does not expire.</summary>
        public long Expire;
        public uint Hash;

        /// <summary>Low 24 bits: LRU clock or LFU data; above: the string encoding (see <see cref="KeyMeta"/>).</summary>
        public uint Meta;
    }

    /// <summary>Bytes of one entry, for memory accounting.</summary>
    public const int EntrySize = 32;

    private const int MinCapacity = 4;

    private Entry[] _entries = new Entry[MinCapacity];

    /// <summary>Number of keys.</summary>
    public int Count { get; private set; }

    /// <summary>Number of keys with an expiry.</summary>
    public int VolatileCount { get; set; }

    /// <summary>Number of entries (a power of two).</summary>
    public int Capacity => _entries.Length;

    /// <summary>The entry at <paramref name="index"/>.</summary>
    public ref Entry this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index];
    }

    /// <summary>Index of <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> key, uint hash)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        var i = (int)(hash & (uint)mask);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key is null)
            {
                return -1;
            }
            if (e.Hash == hash && e.Key.AsSpan().SequenceEqual(key))
            {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds a key known to be absent; returns its index. May grow the table (indices change).</summary>
    public int Add(byte[] key, uint hash, object value, uint meta)
    {
        if ((Count + 1) * 4 > _entries.Length * 3)
        {
            Resize(_entries.Length * 2);
        }
        var index = Place(_entries, key, value, 0, hash, meta);
        Count++;
        return index;
    }

    /// <summary>Removes the entry at <paramref name="index"/>, shifting later entries of its run back.</summary>
    public void RemoveAt(int index)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        if (entries[index].Expire != 0)
        {
            VolatileCount--;
        }
        var hole = index;
        var i = index;
        while (true)
        {
            i = (i + 1) & mask;
            ref var e = ref entries[i];
            if (e.Key is null)
            {
                break;
            }
            // An entry may move into the hole only if its home is not between the hole and its position.
            var home = (int)(e.Hash & (uint)mask);
            var distanceToEntry = (i - home) & mask;
            var distanceToHole = (hole - home) & mask;
            if (distanceToHole <= distanceToEntry)
            {
                entries[hole] = e;
                hole = i;
            }
        }
        entries[hole] = default;
        Count--;
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
            Resize(Math.Max(capacity, MinCapacity));
        }
    }

    /// <summary>The home bucket of the entry at <paramref name="index"/> under the current size.</summary>
    public int HomeOf(int index) => (int)(_entries[index].Hash & (uint)(_entries.Length - 1));

    /// <summary>
    /// Calls <paramref name="visit"/> with the index of every entry whose home bucket is <paramref name="bucket"/>
    /// (they lie in the run of occupied entries starting there). SCAN walks buckets in reverse-binary order.
    /// </summary>
    public void VisitBucket<TState>(int bucket, ref TState state, BucketVisitor<TState> visit)
    {
        var mask = _entries.Length - 1;
        var i = bucket & mask;
        for (var n = 0; n <= mask; n++, i = (i + 1) & mask)
        {
            if (_entries[i].Key is null)
            {
                return;
            }
            if ((_entries[i].Hash & (uint)mask) == (uint)(bucket & mask))
            {
                visit(this, i, ref state);
            }
        }
    }

    /// <summary>Index of a random occupied entry; the table must not be empty.</summary>
    public int RandomIndex(Random random)
    {
        var mask = _entries.Length - 1;
        var i = random.Next(_entries.Length);
        while (_entries[i].Key is null)
        {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void Resize(int capacity)
    {
        var old = _entries;
        var entries = new Entry[capacity];
        foreach (ref var e in old.AsSpan())
        {
            if (e.Key is not null)
            {
                Place(entries, e.Key, e.Value!, e.Expire, e.Hash, e.Meta);
            }
        }
        _entries = entries;
    }

    private static int Place(Entry[] entries, byte[] key, object value, long expire, uint hash, uint meta)
    {
        var mask = entries.Length - 1;
        var i = (int)(hash & (uint)mask);
        while (entries[i].Key is not null)
        {
            i = (i + 1) & mask;
        }
        entries[i] = new Entry { Key = key, Value = value, Expire = expire, Hash = hash, Meta = meta };
        return i;
    }
}

/// <summary>Callback of <see cref="KeyTable.VisitBucket{TState}"/>.</summary>
internal delegate void BucketVisitor<TState>(KeyTable table, int index, ref TState state);
