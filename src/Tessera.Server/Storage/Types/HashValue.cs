using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage.Types;

/// <summary>A field of a big hash: field and value packed in one array (the <see cref="PackedString"/> layout).</summary>
internal readonly struct PackedFieldKey : IKeySelector<byte[]>
{
    public static ReadOnlySpan<byte> KeyOf(byte[] item) => PackedString.Key(item);
}

/// <summary>
/// A hash. Small hashes are a <see cref="PackedList"/> holding the key, then alternating fields and values in
/// insertion order (Redis's listpack encoding; the key rides along so a small hash is one object and one array);
/// past <c>hash-max-listpack-entries</c> fields, or a field or value longer than <c>hash-max-listpack-value</c>
/// set by HSET, they convert for good to an <see cref="OpenTable{T,TKey}"/> of packed field+value arrays (the
/// hashtable encoding).
/// </summary>
internal sealed class HashValue : StoredValue, Commands.IRandomPositions
{
    private PackedList _small = new(32);
    private Table? _big;

    /// <summary>The hashtable encoding's parts.</summary>
    private sealed class Table(byte[] key)
    {
        public byte[] Key { get; set; } = key;

        public OpenTable<byte[], PackedFieldKey> Fields { get; } = new();

        /// <summary>Heap bytes of the packed field+value arrays.</summary>
        public long FieldBytes { get; set; }
    }

    /// <summary>Number of fields.</summary>
    public long Count => _big is null ? Math.Max(0, _small.Count - 1) / 2 : _big.Fields.Count;

    public override ReadOnlySpan<byte> Key => _big is not null ? _big.Key : _small.Count == 0 ? [] : _small.At(_small.First);

    public override bool IsEmpty => Count == 0;

    public override string TypeName => "hash";

    public override string EncodingName => _big is null ? "listpack" : "hashtable";

    /// <summary>True while listpack-encoded.</summary>
    public bool IsCompact => _big is null;

    public override long MemoryBytes => MemorySize.ObjectHeader + 24 + (_big is null
        ? _small.MemoryBytes
        : MemorySize.ObjectHeader + 24 + MemorySize.Of(_big.Key) + _big.Fields.ArrayBytes + _big.FieldBytes);

    /// <summary>Offset of the first field in the listpack, past the key.</summary>
    private int FirstField => _small.Next(_small.First);

    public override void SetKey(ReadOnlySpan<byte> key)
    {
        if (_big is not null)
        {
            _big.Key = key.ToArray();
        }
        else if (_small.Count == 0)
        {
            _small.Append(key);
        }
        else
        {
            _small.Replace(_small.First, key);
        }
    }

    /// <summary>The value of <paramref name="field"/>; false when absent.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if (_big is null)
        {
            var position = _small.Find(field, step: 2, from: FirstField);
            value = position < 0 ? default : _small.At(_small.Next(position));
            return position >= 0;
        }
        var index = _big.Fields.Find(field);
        value = index < 0 ? default : PackedString.Value(_big.Fields[index].Item!);
        return index >= 0;
    }

    public bool Contains(ReadOnlySpan<byte> field) => TryGet(field, out _);

    /// <summary>Sets a field; true when it was new. Converts when the listpack grows past <paramref name="maxEntries"/>.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long maxEntries)
    {
        if (_big is null)
        {
            var position = _small.Find(field, step: 2, from: FirstField);
            if (position >= 0)
            {
                _small.Replace(_small.Next(position), value);
                return false;
            }
            _small.Append(field);
            _small.Append(value);
            if (Count > maxEntries)
            {
                ConvertToTable();
            }
            return true;
        }
        var fields = _big.Fields;
        var index = fields.Find(field);
        var packed = PackedString.Create(field, value);
        _big.FieldBytes += MemorySize.Of(packed);
        if (index >= 0)
        {
            _big.FieldBytes -= MemorySize.Of(fields[index].Item!);
            fields[index].Item = packed;
            return false;
        }
        fields.Add(packed);
        return true;
    }

    /// <summary>Makes room for <paramref name="bytes"/> of listpack entries at once (no-op for a hashtable).</summary>
    public void Reserve(int bytes)
    {
        if (_big is null)
        {
            _small.Reserve(bytes);
        }
    }

    /// <summary>Removes a field; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (_big is null)
        {
            var position = _small.Find(field, step: 2, from: FirstField);
            if (position < 0)
            {
                return false;
            }
            _small.RemoveAt(position, 2);
            return true;
        }
        var fields = _big.Fields;
        var index = fields.Find(field);
        if (index < 0)
        {
            return false;
        }
        _big.FieldBytes -= MemorySize.Of(fields[index].Item!);
        fields.RemoveAt(index);
        fields.TryShrink();
        return true;
    }

    /// <summary>
    /// Redis's hashTypeTryConversion: converts to the hashtable encoding when one of the given fields or values is
    /// longer than <paramref name="maxValue"/>.
    /// </summary>
    public void ConvertIfTooLong(ReadOnlySpan<byte> element, long maxValue)
    {
        if (_big is null && element.Length > maxValue)
        {
            ConvertToTable();
        }
    }

    /// <summary>Calls <paramref name="visit"/> with every field and value, in encoding order.</summary>
    public void ForEach<TState>(ref TState state, FieldVisitor<TState> visit)
    {
        if (_big is null)
        {
            for (var p = FirstField; p < _small.End;)
            {
                var field = _small.At(p);
                p = _small.Next(p);
                visit(field, _small.At(p), ref state);
                p = _small.Next(p);
            }
            return;
        }
        var fields = _big.Fields;
        for (var i = 0; i < fields.Capacity; i++)
        {
            if (fields[i].Item is { } packed)
            {
                visit(PackedString.Key(packed), PackedString.Value(packed), ref state);
            }
        }
    }

    /// <summary>The field and value at a random position (HRANDFIELD); the hash must not be empty.</summary>
    public (byte[] Field, byte[] Value) Random(Random random)
    {
        var field = At(RandomPosition(random), out var value);
        return (field.ToArray(), value.ToArray());
    }

    /// <summary>A position is a field's number in the listpack, or a slot of the hashtable.</summary>
    public long RandomPosition(Random random) => _big is null ? random.Next((int)Count) : _big.Fields.RandomIndex(random);

    public void AddPositions(List<long> positions)
    {
        if (_big is not null)
        {
            _big.Fields.AddOccupied(positions);
            return;
        }
        for (var i = 0; i < Count; i++)
        {
            positions.Add(i);
        }
    }

    /// <summary>The field (and its value) at a position from <see cref="RandomPosition"/> or <see cref="AddPositions"/>.</summary>
    public ReadOnlySpan<byte> At(long position, out ReadOnlySpan<byte> value)
    {
        if (_big is null)
        {
            var p = _small.PositionOf(1 + ((int)position * 2));
            value = _small.At(_small.Next(p));
            return _small.At(p);
        }
        var packed = _big.Fields[(int)position].Item!;
        value = PackedString.Value(packed);
        return PackedString.Key(packed);
    }

    /// <summary>
    /// One HSCAN step: a listpack hash returns everything at once (cursor 0); a hashtable walks buckets.
    /// </summary>
    public ulong Scan(ulong cursor, long count, List<(byte[] Field, byte[] Value)> output)
    {
        if (_big is null)
        {
            ForEach(ref output, static (f, v, ref o) => o.Add((f.ToArray(), v.ToArray())));
            return 0;
        }
        return _big.Fields.Scan(cursor, count, ref output,
            static (t, i, ref o) => o.Add((PackedString.Key(t[i].Item!).ToArray(), PackedString.Value(t[i].Item!).ToArray())),
            static o => o.Count);
    }

    public override StoredValue CopyAs(ReadOnlySpan<byte> key)
    {
        var copy = new HashValue();
        if (_big is null)
        {
            copy._small = _small.Clone();
            copy.SetKey(key);
            return copy;
        }
        copy._small = default;
        copy._big = new Table(key.ToArray()) { FieldBytes = _big.FieldBytes };
        copy._big.Fields.EnsureCapacity(_big.Fields.Count);
        foreach (var packed in _big.Fields.Items())
        {
            copy._big.Fields.Add((byte[])packed.Clone());
        }
        return copy;
    }

    private void ConvertToTable()
    {
        var table = new Table(Key.ToArray());
        table.Fields.EnsureCapacity((int)Count);
        for (var p = FirstField; p < _small.End;)
        {
            var field = _small.At(p);
            p = _small.Next(p);
            var packed = PackedString.Create(field, _small.At(p));
            p = _small.Next(p);
            table.Fields.Add(packed);
            table.FieldBytes += MemorySize.Of(packed);
        }
        _big = table;
        _small = default;
    }
}

/// <summary>Callback of <see cref="HashValue.ForEach{TState}"/>.</summary>
internal delegate void FieldVisitor<TState>(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, ref TState state);
