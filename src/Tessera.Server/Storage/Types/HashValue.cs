using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage.Types;

/// <summary>A field of a big hash: field and value packed in one array (the <see cref="PackedString"/> layout).</summary>
internal readonly struct PackedFieldKey : IKeySelector<byte[]>
{
    public static ReadOnlySpan<byte> KeyOf(byte[] item) => PackedString.Key(item);
}

/// <summary>
/// A hash. Small hashes are a <see cref="PackedList"/> of alternating fields and values in insertion order
/// (Redis's listpack encoding); past <c>hash-max-listpack-entries</c> fields, or a field or value longer than
/// <c>hash-max-listpack-value</c> set by HSET, they convert for good to an <see cref="OpenTable{T,TKey}"/> of
/// packed field+value arrays (the hashtable encoding).
/// </summary>
internal sealed class HashValue : StoredValue
{
    private PackedList? _small = new();
    private OpenTable<byte[], PackedFieldKey>? _table;
    private long _tableBytes;

    /// <summary>Number of fields.</summary>
    public long Count => _small is not null ? _small.Count / 2 : _table!.Count;

    public override bool IsEmpty => Count == 0;

    public override string TypeName => "hash";

    public override string EncodingName => _small is not null ? "listpack" : "hashtable";

    /// <summary>True while listpack-encoded.</summary>
    public bool IsCompact => _small is not null;

    public override long MemoryBytes => MemorySize.ObjectHeader + 32 + MemorySize.Of(Key)
        + (_small?.MemoryBytes ?? (_table!.ArrayBytes + _tableBytes));

    /// <summary>The value of <paramref name="field"/>; false when absent.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if (_small is not null)
        {
            var position = _small.Find(field, step: 2);
            value = position < 0 ? default : _small.At(_small.Next(position));
            return position >= 0;
        }
        var index = _table!.Find(field);
        value = index < 0 ? default : PackedString.Value(_table[index].Item!);
        return index >= 0;
    }

    public bool Contains(ReadOnlySpan<byte> field) => TryGet(field, out _);

    /// <summary>Sets a field; true when it was new. Converts when the listpack grows past <paramref name="maxEntries"/>.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long maxEntries)
    {
        if (_small is not null)
        {
            var position = _small.Find(field, step: 2);
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
        var index = _table!.Find(field);
        var packed = PackedString.Create(field, value);
        _tableBytes += MemorySize.Of(packed);
        if (index >= 0)
        {
            _tableBytes -= MemorySize.Of(_table[index].Item!);
            _table[index].Item = packed;
            return false;
        }
        _table.Add(packed);
        return true;
    }

    /// <summary>Removes a field; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (_small is not null)
        {
            var position = _small.Find(field, step: 2);
            if (position < 0)
            {
                return false;
            }
            _small.RemoveAt(position, 2);
            return true;
        }
        var index = _table!.Find(field);
        if (index < 0)
        {
            return false;
        }
        _tableBytes -= MemorySize.Of(_table[index].Item!);
        _table.RemoveAt(index);
        _table.TryShrink();
        return true;
    }

    /// <summary>
    /// Redis's hashTypeTryConversion: converts to the hashtable encoding when one of the given fields or values is
    /// longer than <paramref name="maxValue"/>.
    /// </summary>
    public void ConvertIfTooLong(ReadOnlySpan<byte> element, long maxValue)
    {
        if (_small is not null && element.Length > maxValue)
        {
            ConvertToTable();
        }
    }

    /// <summary>Calls <paramref name="visit"/> with every field and value, in encoding order.</summary>
    public void ForEach<TState>(ref TState state, FieldVisitor<TState> visit)
    {
        if (_small is not null)
        {
            for (var p = _small.First; p < _small.End;)
            {
                var field = _small.At(p);
                p = _small.Next(p);
                visit(field, _small.At(p), ref state);
                p = _small.Next(p);
            }
            return;
        }
        for (var i = 0; i < _table!.Capacity; i++)
        {
            if (_table[i].Item is { } packed)
            {
                visit(PackedString.Key(packed), PackedString.Value(packed), ref state);
            }
        }
    }

    /// <summary>The field and value at a random position (HRANDFIELD); the hash must not be empty.</summary>
    public (byte[] Field, byte[] Value) Random(Random random)
    {
        if (_small is not null)
        {
            var p = _small.PositionOf(random.Next((int)Count) * 2);
            return (_small.At(p).ToArray(), _small.At(_small.Next(p)).ToArray());
        }
        var packed = _table![_table.RandomIndex(random)].Item!;
        return (PackedString.Key(packed).ToArray(), PackedString.Value(packed).ToArray());
    }

    /// <summary>
    /// One HSCAN step: a listpack hash returns everything at once (cursor 0); a hashtable walks buckets.
    /// </summary>
    public ulong Scan(ulong cursor, long count, List<(byte[] Field, byte[] Value)> output)
    {
        if (_small is not null)
        {
            ForEach(ref output, static (f, v, ref o) => o.Add((f.ToArray(), v.ToArray())));
            return 0;
        }
        return _table!.Scan(cursor, count, ref output,
            static (t, i, ref o) => o.Add((PackedString.Key(t[i].Item!).ToArray(), PackedString.Value(t[i].Item!).ToArray())),
            static o => o.Count);
    }

    public override StoredValue CopyAs(byte[] key)
    {
        var copy = new HashValue { Key = key };
        if (_small is not null)
        {
            copy._small = _small.Clone();
            return copy;
        }
        copy._small = null;
        copy._table = new OpenTable<byte[], PackedFieldKey>();
        copy._table.EnsureCapacity(_table!.Count);
        foreach (var packed in _table.Items())
        {
            copy._table.Add((byte[])packed.Clone());
        }
        copy._tableBytes = _tableBytes;
        return copy;
    }

    private void ConvertToTable()
    {
        var table = new OpenTable<byte[], PackedFieldKey>();
        table.EnsureCapacity((int)Count);
        long bytes = 0;
        for (var p = _small!.First; p < _small.End;)
        {
            var field = _small.At(p);
            p = _small.Next(p);
            var packed = PackedString.Create(field, _small.At(p));
            p = _small.Next(p);
            table.Add(packed);
            bytes += MemorySize.Of(packed);
        }
        _table = table;
        _tableBytes = bytes;
        _small = null;
    }
}

/// <summary>Callback of <see cref="HashValue.ForEach{TState}"/>.</summary>
internal delegate void FieldVisitor<TState>(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, ref TState state);
