using System.Runtime.CompilerServices;

namespace Tessera.Server.Storage;

/// <summary>
/// The keys of one hash slot of one database: an open-addressing table (linear probing, backward-shift deletion)
/// of 16-byte entries. An entry holds the stored item (a packed key+string, or a <see cref="StoredValue"/> that
/// knows its key), the key's hash and its metadata. Expiry times live in a parallel array created only when the
/// table holds a key with a TTL. A database is 16384 of these, so growth rehashes one slot's keys at a time and a
/// slot's keys can be counted, listed and migrated directly.
/// </summary>
internal sealed class KeyTable
{
    /// <summary>One key. <see cref="Item"/> is null in an empty entry.</summary>
    internal struct Entry
    {
        /// <summary>A packed string (byte[]) or a <see cref="StoredValue"/>.</summary>
        public object? Item;
        public uint Hash;

        /// <summary>Low 24 bits: LRU clock or LFU data; above: the string encoding (see <see cref="KeyMeta"/>).</summary>
        public uint Meta;
    }

    /// <summary>Bytes of one entry, for memory accounting.</summary>
    public const int EntrySize = 16;

    private const int MinCapacity = 4;

    private Entry[] _entries = new Entry[MinCapacity];
    private long[]? _expires;

    /// <summary>Number of keys.</summary>
    public int Count { get; private set; }

    /// <summary>Number of keys with an expiry.</summary>
    public int VolatileCount { get; private set; }

    /// <summary>Number of entries (a power of two).</summary>
    public int Capacity => _entries.Length;

    /// <summary>Heap bytes of the entry and expiry arrays.</summary>
    public long ArrayBytes => ((long)_entries.Length * EntrySize) + (_expires is null ? 0 : (long)_expires.Length * 8);

    /// <summary>The entry at <paramref name="index"/>.</summary>
    public ref Entry this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index];
    }

    /// <summary>The key stored in an item.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> KeyOf(object item) => item is byte[] packed ? PackedString.Key(packed) : ((StoredValue)item).Key;

    /// <summary>Absolute expiry (Unix ms) of the entry at <paramref name="index"/>, 0 when it has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ExpireAt(int index) => _expires is null ? 0 : _expires[index];

    /// <summary>Sets or clears (0) the expiry of the entry at <paramref name="index"/>.</summary>
    public void SetExpire(int index, long unixMs)
    {
        var old = ExpireAt(index);
        if (unixMs != 0)
        {
            _expires ??= new long[_entries.Length];
            _expires[index] = unixMs;
            if (old == 0)
            {
                VolatileCount++;
            }
        }
        else if (old != 0)
        {
            _expires![index] = 0;
            if (--VolatileCount == 0)
            {
                _expires = null;
            }
        }
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
            if (e.Item is null)
            {
                return -1;
            }
            if (e.Hash == hash && KeyOf(e.Item).SequenceEqual(key))
            {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds an item whose key is absent; returns its index. May grow the table (indices change).</summary>
    public int Add(object item, uint hash, uint meta)
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
        _entries[i] = new Entry { Item = item, Hash = hash, Meta = meta };
        Count++;
        return i;
    }

    /// <summary>Removes the entry at <paramref name="index"/>, shifting later entries of its run back.</summary>
    public void RemoveAt(int index)
    {
        SetExpire(index, 0);
        var entries = _entries;
        var expires = _expires;
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
            // An entry may move into the hole only if the hole lies between its home and its position.
            var home = (int)(e.Hash & (uint)mask);
            if (((hole - home) & mask) < ((i - home) & mask))
            {
                entries[hole] = e;
                if (expires is not null)
                {
                    expires[hole] = expires[i];
                    expires[i] = 0;
                }
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
            Resize(capacity);
        }
    }

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

    /// <summary>Index of a random occupied entry; the table must not be empty.</summary>
    public int RandomIndex(Random random)
    {
        var mask = _entries.Length - 1;
        var i = random.Next(_entries.Length);
        while (_entries[i].Item is null)
        {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void Resize(int capacity)
    {
        var old = _entries;
        var oldExpires = _expires;
        var entries = new Entry[capacity];
        var expires = oldExpires is null ? null : new long[capacity];
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
            if (expires is not null)
            {
                expires[i] = oldExpires![j];
            }
        }
        _entries = entries;
        _expires = expires;
    }
}

/// <summary>Callback of <see cref="KeyTable.VisitBucket{TState}"/>.</summary>
internal delegate void BucketVisitor<TState>(KeyTable table, int index, ref TState state);
