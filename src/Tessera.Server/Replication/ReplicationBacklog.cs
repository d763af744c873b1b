using Tessera.Resp;

namespace Tessera.Server.Replication;

/// <summary>
/// The last <c>repl-backlog-size</c> bytes of the replication stream, in a ring, so a replica that lost its link
/// can continue from its offset (+CONTINUE) instead of a full resynchronization. Offsets are Redis's: the stream's
/// first byte is offset 1, and the backlog holds (<see cref="EndOffset"/> - <see cref="Length"/>, <see cref="EndOffset"/>].
/// </summary>
internal sealed class ReplicationBacklog(long size, long endOffset)
{
    private readonly byte[] _ring = new byte[size];
    private long _written;

    /// <summary>Bytes held.</summary>
    public long Length => Math.Min(_written, _ring.Length);

    /// <summary>The stream offset of the last byte held.</summary>
    public long EndOffset { get; private set; } = endOffset;

    /// <summary>The offset of the first byte held (INFO repl_backlog_first_byte_offset).</summary>
    public long FirstOffset => EndOffset - Length + 1;

    public long Size => _ring.Length;

    /// <summary>Appends the stream's newest bytes.</summary>
    public void Append(OutputBuffer stream)
    {
        var length = (int)stream.Length;
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            stream.CopyTo(copy);
            Append(copy.AsSpan(0, length));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>True when a replica asking to continue from <paramref name="offset"/> (its next byte) can be served.</summary>
    public bool Covers(long offset) => Length > 0 ? offset >= FirstOffset && offset <= EndOffset + 1 : offset == EndOffset + 1;

    /// <summary>Writes the bytes from <paramref name="offset"/> to the end (see <see cref="Covers"/>).</summary>
    public void CopyFrom(long offset, OutputBuffer to)
    {
        var count = EndOffset - offset + 1;
        var start = (int)((_written - count) % _ring.Length);
        while (count > 0)
        {
            var n = (int)Math.Min(count, _ring.Length - start);
            to.WriteRaw(_ring.AsSpan(start, n));
            count -= n;
            start = 0;
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        EndOffset += bytes.Length;
        if (bytes.Length >= _ring.Length)
        {
            // Only the newest bytes fit; the ring's start is arbitrary, the count of bytes held is what matters.
            bytes = bytes[^_ring.Length..];
        }
        var at = (int)(_written % _ring.Length);
        var first = Math.Min(bytes.Length, _ring.Length - at);
        bytes[..first].CopyTo(_ring.AsSpan(at));
        bytes[first..].CopyTo(_ring);
        _written += bytes.Length;
    }
}
