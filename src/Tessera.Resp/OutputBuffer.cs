using System.Buffers;

namespace Tessera.Resp;

/// <summary>
/// Bytes waiting to be sent to one peer, kept in pooled chunks so a large reply never needs one huge copy and an
/// idle connection holds no buffer at all: chunks are rented on first write and returned once sent.
/// Not thread-safe; owned by the connection's event loop.
/// </summary>
public class OutputBuffer
{
    /// <summary>Size of a pooled chunk; also Redis's reply buffer size (PROTO_REPLY_CHUNK_BYTES).</summary>
    public const int ChunkSize = 16 * 1024;

    /// <summary>Pending bytes up to which <see cref="TakeFrom"/> copies a chunk rather than moving it.</summary>
    private const int SmallChunkBytes = 4096;

    private byte[][] _chunks = new byte[4][];
    private int[] _lengths = new int[4];
    private int _head;
    private int _count;
    private int _headSent;
    private long _length;

    /// <summary>Bytes written and not yet consumed.</summary>
    public long Length => _length;

    /// <summary>True when nothing waits to be sent.</summary>
    public bool IsEmpty => _length == 0;

    /// <summary>Free space of at least <paramref name="sizeHint"/> bytes at the end; call <see cref="Advance"/> after writing.</summary>
    public Span<byte> GetSpan(int sizeHint)
    {
        if (_count > 0)
        {
            var last = (_head + _count - 1) & (_chunks.Length - 1);
            var free = _chunks[last].Length - _lengths[last];
            if (free >= sizeHint && free > 0)
            {
                return _chunks[last].AsSpan(_lengths[last]);
            }
        }
        AddChunk(Math.Max(sizeHint, ChunkSize));
        var index = (_head + _count - 1) & (_chunks.Length - 1);
        return _chunks[index].AsSpan(_lengths[index]);
    }

    /// <summary>Commits <paramref name="count"/> bytes written into the span from <see cref="GetSpan"/>.</summary>
    public void Advance(int count)
    {
        var last = (_head + _count - 1) & (_chunks.Length - 1);
        _lengths[last] += count;
        _length += count;
    }

    /// <summary>Appends <paramref name="bytes"/>, spreading a large write over several chunks.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = GetSpan(Math.Min(bytes.Length, ChunkSize));
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>The first unsent bytes (one chunk's worth); empty when nothing is pending.</summary>
    public ReadOnlySpan<byte> PeekFirst()
        => _count == 0 ? default : _chunks[_head].AsSpan(_headSent, _lengths[_head] - _headSent);

    /// <summary>Copies every unsent byte into <paramref name="destination"/> (at least <see cref="Length"/> long).</summary>
    public void CopyTo(Span<byte> destination)
    {
        for (var i = 0; i < _count; i++)
        {
            var index = (_head + i) & (_chunks.Length - 1);
            var start = i == 0 ? _headSent : 0;
            var chunk = _chunks[index].AsSpan(start, _lengths[index] - start);
            chunk.CopyTo(destination);
            destination = destination[chunk.Length..];
        }
    }

    /// <summary>Fills <paramref name="segments"/> with the first chunks of unsent bytes, for a gathered send; returns how many.</summary>
    public int PeekSegments(Span<ArraySegment<byte>> segments)
    {
        var n = Math.Min(segments.Length, _count);
        for (var i = 0; i < n; i++)
        {
            var index = (_head + i) & (_chunks.Length - 1);
            var start = i == 0 ? _headSent : 0;
            segments[i] = new ArraySegment<byte>(_chunks[index], start, _lengths[index] - start);
        }
        return n;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (they were sent), returning emptied chunks to the pool.</summary>
    public void Consume(long count)
    {
        _length -= count;
        while (count > 0)
        {
            var available = _lengths[_head] - _headSent;
            if (count < available)
            {
                _headSent += (int)count;
                return;
            }
            count -= available;
            ReleaseHead();
        }
        if (_length == 0)
        {
            Clear();
        }
    }

    /// <summary>
    /// Moves everything pending in <paramref name="source"/> to the end of this buffer: full chunks are handed over
    /// without copying; a small one is copied, so many short replies do not become many nearly empty chunks (one
    /// send call each).
    /// </summary>
    public void TakeFrom(OutputBuffer source)
    {
        while (source._count > 0)
        {
            var start = source._headSent;
            var chunk = source._chunks[source._head];
            var length = source._lengths[source._head];
            if (start > 0 || length - start <= SmallChunkBytes)
            {
                WriteRaw(chunk.AsSpan(start, length - start));
                source.ReleaseHead();
                continue;
            }
            Append(chunk, length);
            source._chunks[source._head] = null!;
            source._head = (source._head + 1) & (source._chunks.Length - 1);
            source._count--;
        }
        source._length = 0;
        source._headSent = 0;
        source._head = 0;
    }

    /// <summary>Drops everything written after the buffer held <paramref name="length"/> bytes (a suppressed reply).</summary>
    public void TruncateTo(long length)
    {
        while (_length > length && _count > 0)
        {
            var last = (_head + _count - 1) & (_chunks.Length - 1);
            var lastStart = _count == 1 ? _headSent : 0;
            var excess = _length - length;
            var available = _lengths[last] - lastStart;
            if (excess < available)
            {
                _lengths[last] -= (int)excess;
                _length = length;
                return;
            }
            _length -= available;
            ArrayPool<byte>.Shared.Return(_chunks[last]);
            _chunks[last] = null!;
            _count--;
        }
        if (_count == 0)
        {
            _head = 0;
            _headSent = 0;
        }
    }

    /// <summary>
    /// Forgets all pending bytes but keeps the first chunk for the next writes: a buffer refilled for every
    /// command or batch rents nothing in the steady state.
    /// </summary>
    public void Reset()
    {
        if (_count == 0)
        {
            return;
        }
        var keep = _chunks[_head];
        _chunks[_head] = null!;
        _head = (_head + 1) & (_chunks.Length - 1);
        _count--;
        Clear();
        _chunks[0] = keep;
        _lengths[0] = 0;
        _count = 1;
    }

    /// <summary>Forgets all pending bytes and returns every chunk to the pool.</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            ReleaseHead();
        }
        _head = 0;
        _headSent = 0;
        _length = 0;
    }

    private void ReleaseHead()
    {
        ArrayPool<byte>.Shared.Return(_chunks[_head]);
        _chunks[_head] = null!;
        _head = (_head + 1) & (_chunks.Length - 1);
        _count--;
        _headSent = 0;
    }

    private void AddChunk(int size) => Append(ArrayPool<byte>.Shared.Rent(size), 0);

    private void Append(byte[] chunk, int length)
    {
        if (_count == _chunks.Length)
        {
            var chunks = new byte[_chunks.Length * 2][];
            var lengths = new int[_chunks.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                chunks[i] = _chunks[(_head + i) & (_chunks.Length - 1)];
                lengths[i] = _lengths[(_head + i) & (_chunks.Length - 1)];
            }
            _chunks = chunks;
            _lengths = lengths;
            _head = 0;
        }
        var index = (_head + _count) & (_chunks.Length - 1);
        _chunks[index] = chunk;
        _lengths[index] = length;
        _count++;
        _length += length;
    }
}
