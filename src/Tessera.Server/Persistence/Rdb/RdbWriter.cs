using System.Buffers;
using System.Buffers.Binary;
using Tessera.Core.Hashing;
using Tessera.Resp;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// Writes RDB primitives (rdb.c's rdbSave*) to a stream, keeping the CRC-64 of everything written for the
/// trailer of a file or a DUMP payload (unless <paramref name="checksum"/> is false: a part of a file whose
/// bytes are summed when the file's own writer writes them).
/// </summary>
internal sealed class RdbWriter(Stream stream, bool compress, bool checksum = true)
{
    /// <summary>CRC-64 of the bytes written so far.</summary>
    public ulong Checksum { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        stream.Write(bytes);
        if (checksum)
        {
            Checksum = Crc64.Compute(bytes, Checksum);
        }
    }

    public void WriteByte(byte value) => Write([value]);

    /// <summary>A length: 6 bits, 14 bits, or a 32/64-bit big-endian number after a marker byte.</summary>
    public void WriteLength(ulong length)
    {
        Span<byte> buffer = stackalloc byte[9];
        if (length < 1 << 6)
        {
            Write([(byte)length]);
        }
        else if (length < 1 << 14)
        {
            Write([(byte)((length >> 8) | (RdbFormat.Len14Bit << 6)), (byte)length]);
        }
        else if (length <= uint.MaxValue)
        {
            buffer[0] = RdbFormat.Len32Bit;
            BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], (uint)length);
            Write(buffer[..5]);
        }
        else
        {
            buffer[0] = RdbFormat.Len64Bit;
            BinaryPrimitives.WriteUInt64BigEndian(buffer[1..], length);
            Write(buffer);
        }
    }

    /// <summary>
    /// A string as Redis's rdbSaveRawString stores it: a short canonical integer in 1, 2 or 4 bytes, a longer
    /// string LZF-compressed when that saves at least four bytes (with rdbcompression), else verbatim.
    /// </summary>
    public void WriteString(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 11 && TryWriteInteger(value))
        {
            return;
        }
        if (compress && value.Length > 20 && TryWriteCompressed(value))
        {
            return;
        }
        WriteLength((ulong)value.Length);
        Write(value);
    }

    private bool TryWriteInteger(ReadOnlySpan<byte> value)
    {
        // RedisInteger accepts only canonical text (no "01", "+1" or "-0"), so the number reads back identical.
        if (!RedisInteger.TryParse(value, out var number) || number < int.MinValue || number > int.MaxValue)
        {
            return false;
        }
        Span<byte> buffer = stackalloc byte[5];
        if (number is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            buffer[0] = (RdbFormat.Encoded << 6) | RdbFormat.EncodingInt8;
            buffer[1] = (byte)number;
            Write(buffer[..2]);
        }
        else if (number is >= short.MinValue and <= short.MaxValue)
        {
            buffer[0] = (RdbFormat.Encoded << 6) | RdbFormat.EncodingInt16;
            BinaryPrimitives.WriteInt16LittleEndian(buffer[1..], (short)number);
            Write(buffer[..3]);
        }
        else
        {
            buffer[0] = (RdbFormat.Encoded << 6) | RdbFormat.EncodingInt32;
            BinaryPrimitives.WriteInt32LittleEndian(buffer[1..], (int)number);
            Write(buffer);
        }
        return true;
    }

    private bool TryWriteCompressed(ReadOnlySpan<byte> value)
    {
        var output = ArrayPool<byte>.Shared.Rent(value.Length - 4);
        try
        {
            var length = Lzf.Compress(value, output.AsSpan(0, value.Length - 4));
            if (length == 0)
            {
                return false;
            }
            WriteByte((RdbFormat.Encoded << 6) | RdbFormat.EncodingLzf);
            WriteLength((ulong)length);
            WriteLength((ulong)value.Length);
            Write(output.AsSpan(0, length));
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }
}
