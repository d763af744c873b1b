using System.Buffers.Binary;
using Tessera.Core.Hashing;
using Tessera.Resp;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// Reads RDB primitives (rdb.c's rdbLoad*) from a stream; malformed input throws <see cref="RdbFormatException"/>.
/// Reads ahead in blocks of its own (a snapshot is millions of one-byte reads), so a caller that goes on
/// reading the stream afterwards calls <see cref="GiveBack"/> first.
/// </summary>
internal sealed class RdbReader(Stream stream)
{
    private const int BlockSize = 1 << 16;

    // Read once: asking a file stream for its length is a system call, too slow for every string.
    private readonly long _length = stream.CanSeek ? stream.Length : long.MaxValue;
    private readonly byte[] _block = new byte[BlockSize];
    private int _position;
    private int _end;
    private int _summedUpTo;
    private ulong _checksum;

    /// <summary>True when the stream has nothing more (a DUMP payload's data read to its end).</summary>
    public bool AtEnd => _position == _end && stream.Position >= _length;

    /// <summary>CRC-64 of the bytes read so far.</summary>
    public ulong Checksum
    {
        get
        {
            SumConsumed();
            return _checksum;
        }
    }

    public void Read(Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_position == _end && !Fill())
            {
                throw new RdbFormatException("Unexpected EOF reading RDB file");
            }
            var n = Math.Min(buffer.Length, _end - _position);
            _block.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            buffer = buffer[n..];
        }
    }

    /// <summary>Moves the stream back to just after the last byte read (when it can seek).</summary>
    public void GiveBack()
    {
        if (stream.CanSeek)
        {
            stream.Position -= _end - _position;
        }
        SumConsumed();
        _end = _position = _summedUpTo = 0;
    }

    /// <summary>Refills the block: the bytes consumed so far go into the checksum first.</summary>
    private bool Fill()
    {
        SumConsumed();
        _position = _end = _summedUpTo = 0;
        _end = stream.Read(_block, 0, BlockSize);
        return _end > 0;
    }

    private void SumConsumed()
    {
        _checksum = Crc64.Compute(_block.AsSpan(_summedUpTo, _position - _summedUpTo), _checksum);
        _summedUpTo = _position;
    }

    public byte ReadByte()
    {
        if (_position == _end && !Fill())
        {
            throw new RdbFormatException("Unexpected EOF reading RDB file");
        }
        return _block[_position++];
    }

    /// <summary>A length, or with <paramref name="encoded"/> the special encoding number of a string.</summary>
    public ulong ReadLength(out bool encoded)
    {
        encoded = false;
        var first = ReadByte();
        switch (first >> 6)
        {
            case RdbFormat.Len6Bit:
                return (ulong)(first & 0x3f);
            case RdbFormat.Len14Bit:
                return ((ulong)(first & 0x3f) << 8) | ReadByte();
            case RdbFormat.Encoded:
                encoded = true;
                return (ulong)(first & 0x3f);
        }
        Span<byte> buffer = stackalloc byte[8];
        switch (first)
        {
            case RdbFormat.Len32Bit:
                Read(buffer[..4]);
                return BinaryPrimitives.ReadUInt32BigEndian(buffer);
            case RdbFormat.Len64Bit:
                Read(buffer);
                return BinaryPrimitives.ReadUInt64BigEndian(buffer);
            default:
                throw new RdbFormatException($"Unknown length encoding {first} in rdbLoadLen()");
        }
    }

    public ulong ReadLength()
    {
        var length = ReadLength(out var encoded);
        return encoded ? throw new RdbFormatException("Unexpected encoded length") : length;
    }

    /// <summary>A string in any of its encodings: verbatim, an integer, or LZF-compressed.</summary>
    public byte[] ReadString()
    {
        var length = ReadLength(out var encoded);
        return encoded ? ReadEncoded(length) : ReadBytes(length);
    }

    /// <summary>A string in one of the special encodings: an integer of 1, 2 or 4 bytes, or LZF-compressed.</summary>
    private byte[] ReadEncoded(ulong encoding)
    {
        Span<byte> buffer = stackalloc byte[4];
        switch ((int)encoding)
        {
            case RdbFormat.EncodingInt8:
                return IntegerText((sbyte)ReadByte());
            case RdbFormat.EncodingInt16:
                Read(buffer[..2]);
                return IntegerText(BinaryPrimitives.ReadInt16LittleEndian(buffer));
            case RdbFormat.EncodingInt32:
                Read(buffer);
                return IntegerText(BinaryPrimitives.ReadInt32LittleEndian(buffer));
            case RdbFormat.EncodingLzf:
                var compressedLength = ReadLength();
                var value = new byte[CheckedLength(ReadLength())];
                var compressed = ReadBytes(compressedLength);
                if (Lzf.Decompress(compressed, value) != value.Length)
                {
                    throw new RdbFormatException("Invalid LZF compressed string");
                }
                return value;
            default:
                throw new RdbFormatException($"Unknown RDB string encoding type {encoding}");
        }
    }

    /// <summary>
    /// Like <see cref="ReadString()"/>, into <paramref name="buffer"/> (grown when too small) instead of a new
    /// array: loading millions of keys allocates nothing per key name or string value.
    /// </summary>
    public ReadOnlySpan<byte> ReadString(ref byte[] buffer)
    {
        var length = ReadLength(out var encoded);
        if (encoded)
        {
            return ReadEncoded(length);
        }
        CheckRemaining(length);
        var size = CheckedLength(length);
        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }
        var span = buffer.AsSpan(0, size);
        Read(span);
        return span;
    }

    private void CheckRemaining(ulong length)
    {
        if (stream.CanSeek && length > (ulong)(_end - _position + (_length - stream.Position)))
        {
            throw new RdbFormatException("Unexpected EOF reading RDB file");
        }
    }

    private byte[] ReadBytes(ulong length)
    {
        CheckRemaining(length);
        var bytes = new byte[CheckedLength(length)];
        Read(bytes);
        return bytes;
    }

    private static int CheckedLength(ulong length)
        => length <= int.MaxValue ? (int)length : throw new RdbFormatException($"String of {length} bytes is too long");

    /// <summary>The decimal text of an integer stored in binary (integer-encoded strings, listpack and intset entries).</summary>
    public static byte[] IntegerText(long value)
    {
        Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
        return text[..RedisInteger.Format(value, text)].ToArray();
    }
}
