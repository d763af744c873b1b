using System.Runtime.CompilerServices;

namespace Tessera.Server.Storage.Structures;

/// <summary>
/// A sequence of byte strings in one buffer, each stored as <c>[length as LEB128][bytes][length again, bytes
/// reversed]</c>: Tessera's listpack. The trailing length lets the list be walked backwards, so the last entry
/// is found without a scan (RPOP).
/// Small hashes (field, value, field, value ...), small sorted sets (member, score ...) and the nodes of lists use
/// it, so thousands of small collections cost a few bytes per element instead of an object each. Operations are
/// linear in the buffer, which stays small by the conversion thresholds (hash-max-listpack-entries ...).
/// Positions are byte offsets of entries, as from <see cref="First"/> and <see cref="Next"/>.
/// A mutable struct, so a small hash or a list node holds its bytes without a second object: keep it in a field
/// and call it on the field (or through a ref), never on a copy.
/// </summary>
internal struct PackedList
{
    private byte[] _buffer;
    private int _used;

    public PackedList(int capacity) => _buffer = new byte[FillAllocation(capacity)];

    /// <summary>Number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes used by the entries.</summary>
    public readonly int ByteLength => _used;

    /// <summary>Heap bytes of the buffer (the struct's own fields live in its holder).</summary>
    public readonly long MemoryBytes => MemorySize.ArrayOf(_buffer.Length);

    /// <summary>Offset of the first entry; equals <see cref="End"/> when empty.</summary>
    public readonly int First => 0;

    /// <summary>The offset past the last entry.</summary>
    public readonly int End => _used;

    /// <summary>The entry at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ReadOnlySpan<byte> At(int position)
    {
        var length = ReadLength(position, out var header);
        return _buffer.AsSpan(position + header, length);
    }

    /// <summary>The offset of the entry after the one at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Next(int position)
    {
        var length = ReadLength(position, out var header);
        return position + (2 * header) + length;
    }

    /// <summary>The offset of the entry before the one at <paramref name="position"/> (which may be <see cref="End"/>).</summary>
    public readonly int Previous(int position)
    {
        // The trailing length ends just before position; read it backwards.
        var i = position - 1;
        int b = _buffer[i];
        var length = b & 0x7F;
        var shift = 7;
        var header = 1;
        while ((b & 0x80) != 0)
        {
            b = _buffer[--i];
            length |= (b & 0x7F) << shift;
            shift += 7;
            header++;
        }
        return position - (2 * header) - length;
    }

    /// <summary>Offset of the last entry; the list must not be empty.</summary>
    public readonly int Last => Previous(_used);

    /// <summary>The offset of the entry at <paramref name="index"/> (0-based), walking from the start.</summary>
    public readonly int PositionOf(int index)
    {
        var position = 0;
        for (var i = 0; i < index; i++)
        {
            position = Next(position);
        }
        return position;
    }

    /// <summary>Appends an entry at the end.</summary>
    public void Append(ReadOnlySpan<byte> value) => InsertAt(_used, value);

    /// <summary>Inserts an entry before the one at <paramref name="position"/> (or at the end).</summary>
    public void InsertAt(int position, ReadOnlySpan<byte> value)
    {
        var size = EntrySize(value.Length);
        EnsureCapacity(_used + size);
        Buffer.BlockCopy(_buffer, position, _buffer, position + size, _used - position);
        WriteEntry(position, value);
        _used += size;
        Count++;
    }

    /// <summary>Removes <paramref name="count"/> entries starting at <paramref name="position"/>.</summary>
    public void RemoveAt(int position, int count = 1)
    {
        var end = position;
        for (var i = 0; i < count; i++)
        {
            end = Next(end);
        }
        Buffer.BlockCopy(_buffer, end, _buffer, position, _used - end);
        _used -= end - position;
        Count -= count;
        ShrinkIfSparse();
    }

    /// <summary>Replaces the entry at <paramref name="position"/> with <paramref name="value"/>.</summary>
    public void Replace(int position, ReadOnlySpan<byte> value)
    {
        var oldEnd = Next(position);
        var size = EntrySize(value.Length);
        var delta = size - (oldEnd - position);
        if (delta > 0)
        {
            EnsureCapacity(_used + delta);
        }
        Buffer.BlockCopy(_buffer, oldEnd, _buffer, oldEnd + delta, _used - oldEnd);
        WriteEntry(position, value);
        _used += delta;
    }

    /// <summary>
    /// Position of the first entry equal to <paramref name="value"/> among the entries at <paramref name="from"/>,
    /// then every <paramref name="step"/>-th; -1 if none.
    /// </summary>
    public readonly int Find(ReadOnlySpan<byte> value, int step = 1, int from = 0)
    {
        var position = from;
        while (position < _used)
        {
            if (At(position).SequenceEqual(value))
            {
                return position;
            }
            for (var i = 0; i < step; i++)
            {
                position = Next(position);
            }
        }
        return -1;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        _used = 0;
        Count = 0;
    }

    /// <summary>A copy with the same entries (COPY), in a buffer of its own.</summary>
    public readonly PackedList Clone()
    {
        var copy = new PackedList(_used);
        _buffer.AsSpan(0, _used).CopyTo(copy._buffer);
        copy._used = _used;
        copy.Count = Count;
        return copy;
    }

    /// <summary>Makes room for <paramref name="bytes"/> more bytes of entries at once (an HSET of many fields).</summary>
    public void Reserve(int bytes)
    {
        var size = FillAllocation(_used + bytes);
        if (size > _buffer.Length)
        {
            Array.Resize(ref _buffer, size);
        }
    }

    /// <summary>Bytes an entry of <paramref name="length"/> takes, both lengths included.</summary>
    public static int EntrySize(int length) => (2 * HeaderLength(length)) + length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int ReadLength(int position, out int header)
    {
        int first = _buffer[position];
        if (first < 0x80)
        {
            header = 1;
            return first;
        }
        var length = first & 0x7F;
        var shift = 7;
        header = 1;
        int b;
        do
        {
            b = _buffer[position + header++];
            length |= (b & 0x7F) << shift;
            shift += 7;
        }
        while (b >= 0x80);
        return length;
    }

    private static int HeaderLength(int length)
    {
        var n = 1;
        while (length >= 0x80)
        {
            length >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Writes the length, the value, and the length's bytes again in reverse order.</summary>
    private void WriteEntry(int position, ReadOnlySpan<byte> value)
    {
        var length = value.Length;
        var header = HeaderLength(length);
        var start = position;
        while (length >= 0x80)
        {
            _buffer[position++] = (byte)(length | 0x80);
            length >>= 7;
        }
        _buffer[position++] = (byte)length;
        value.CopyTo(_buffer.AsSpan(position));
        position += value.Length;
        for (var i = header - 1; i >= 0; i--)
        {
            _buffer[position++] = _buffer[start + i];
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }
        // Growing by an eighth keeps the spare room small (memory per element is what packed lists are for); the
        // extra copying is cheap next to the move an insertion makes anyway.
        Array.Resize(ref _buffer, FillAllocation((int)Math.Min(Array.MaxLength - 64, needed + ((long)needed / 8))));
    }

    /// <summary>Drops spare room once the list will not grow for a while (a full list node).</summary>
    public void TrimExcess()
    {
        var size = FillAllocation(_used);
        if (size < _buffer.Length)
        {
            Array.Resize(ref _buffer, size);
        }
    }

    /// <summary>
    /// The largest array length that takes the same heap block as <paramref name="length"/> bytes: arrays are
    /// allocated in 8-byte steps after a 24-byte header, so the padding is free room.
    /// </summary>
    private static int FillAllocation(int length) => (int)Math.Min(Array.MaxLength, ((length + 24L + 7) & ~7L) - 24);

    /// <summary>Gives memory back when at most a quarter of the buffer is used.</summary>
    private void ShrinkIfSparse()
    {
        if (_buffer.Length > 64 && _used * 4 < _buffer.Length)
        {
            Array.Resize(ref _buffer, FillAllocation(_used + (_used / 8)));
        }
    }
}
