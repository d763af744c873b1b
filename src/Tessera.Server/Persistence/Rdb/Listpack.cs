using System.Buffers.Binary;
using Tessera.Resp;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// Redis's listpack blob (listpack.c), the RDB form of small hashes, sorted sets and list nodes: a 6-byte header
/// (total bytes, element count), entries that each end with their own length written backwards, and 0xFF.
/// Strings that are canonical integers are stored as integers of the smallest width, as Redis does, so a blob
/// built here is byte-identical to Redis's for the same elements.
/// </summary>
internal sealed class ListpackBuilder
{
    private const int HeaderSize = 6;
    private readonly MemoryStream _bytes = new();
    private int _count;

    public ListpackBuilder() => _bytes.Write(stackalloc byte[HeaderSize]);

    public int Count => _count;

    public void Append(ReadOnlySpan<byte> element)
    {
        Span<byte> entry = stackalloc byte[9];
        int length;
        if (RedisInteger.TryParse(element, out var value))
        {
            length = EncodeInteger(value, entry);
            _bytes.Write(entry[..length]);
        }
        else
        {
            length = EncodeStringHeader(element.Length, entry);
            _bytes.Write(entry[..length]);
            _bytes.Write(element);
            length += element.Length;
        }
        Span<byte> backlen = stackalloc byte[5];
        _bytes.Write(backlen[..EncodeBacklen(length, backlen)]);
        _count++;
    }

    /// <summary>The finished blob.</summary>
    public byte[] ToArray()
    {
        _bytes.WriteByte(0xff);
        var blob = _bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(blob, (uint)blob.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(4), (ushort)Math.Min(_count, ushort.MaxValue));
        return blob;
    }

    private static int EncodeInteger(long value, Span<byte> entry)
    {
        if (value is >= 0 and <= 127)
        {
            entry[0] = (byte)value;
            return 1;
        }
        if (value is >= -4096 and <= 4095)
        {
            var bits = (ulong)(value < 0 ? (1 << 13) + value : value);
            entry[0] = (byte)((bits >> 8) | 0xc0);
            entry[1] = (byte)bits;
            return 2;
        }
        var (code, width) = value switch
        {
            >= short.MinValue and <= short.MaxValue => (0xf1, 2),
            >= -8388608 and <= 8388607 => (0xf2, 3),
            >= int.MinValue and <= int.MaxValue => (0xf3, 4),
            _ => (0xf4, 8),
        };
        entry[0] = (byte)code;
        BinaryPrimitives.WriteInt64LittleEndian(entry[1..], value);
        return 1 + width;
    }

    private static int EncodeStringHeader(int length, Span<byte> entry)
    {
        if (length < 64)
        {
            entry[0] = (byte)(0x80 | length);
            return 1;
        }
        if (length < 4096)
        {
            entry[0] = (byte)(0xe0 | (length >> 8));
            entry[1] = (byte)length;
            return 2;
        }
        entry[0] = 0xf0;
        BinaryPrimitives.WriteInt32LittleEndian(entry[1..], length);
        return 5;
    }

    /// <summary>lpEncodeBacklen: the entry length in 7-bit groups, most significant first, all but the first flagged.</summary>
    private static int EncodeBacklen(int length, Span<byte> buffer)
    {
        var groups = length <= 127 ? 1 : length < 16383 ? 2 : length < 2097151 ? 3 : length < 268435455 ? 4 : 5;
        for (var i = 0; i < groups; i++)
        {
            var shift = 7 * (groups - 1 - i);
            buffer[i] = (byte)(((length >> shift) & 127) | (i == 0 ? 0 : 128));
        }
        return groups;
    }
}

/// <summary>
/// Reads the elements of Redis listpack blobs; anything malformed is an <see cref="RdbFormatException"/>. Every
/// entry is bounds-checked whatever the mode, so no blob can make a read stray; <c>deep</c> adds the rest of
/// Redis's lpValidateIntegrity (sanitize-dump-payload): each entry's backward length matches it, the terminator is
/// the last byte, and the header's count is right.
/// </summary>
internal static class Listpack
{
    private const ushort UnknownCount = ushort.MaxValue;

    public static List<byte[]> Parse(ReadOnlySpan<byte> blob, bool deep)
    {
        if (blob.Length < 7 || BinaryPrimitives.ReadUInt32LittleEndian(blob) != blob.Length || blob[^1] != 0xff)
        {
            throw Corrupt();
        }
        var elements = new List<byte[]>();
        var p = 6;
        while (blob[p] != 0xff)
        {
            var start = p;
            var first = blob[p];
            byte[] element;
            if ((first & 0x80) == 0)
            {
                element = RdbReader.IntegerText(first);
                p += 1;
            }
            else if ((first & 0xc0) == 0x80)
            {
                element = Take(blob, p + 1, first & 0x3f);
                p += 1 + element.Length;
            }
            else if ((first & 0xe0) == 0xc0)
            {
                var bits = ((first & 0x1f) << 8) | At(blob, p + 1);
                element = RdbReader.IntegerText(bits >= 1 << 12 ? bits - (1 << 13) : bits);
                p += 2;
            }
            else if ((first & 0xf0) == 0xe0)
            {
                element = Take(blob, p + 2, ((first & 0x0f) << 8) | At(blob, p + 1));
                p += 2 + element.Length;
            }
            else
            {
                (element, p) = first switch
                {
                    0xf0 => StringAt(blob, p),
                    0xf1 => (RdbReader.IntegerText(BinaryPrimitives.ReadInt16LittleEndian(Slice(blob, p + 1, 2))), p + 3),
                    0xf2 => (RdbReader.IntegerText((BinaryPrimitives.ReadInt32LittleEndian([0, .. Slice(blob, p + 1, 3)])) >> 8), p + 4),
                    0xf3 => (RdbReader.IntegerText(BinaryPrimitives.ReadInt32LittleEndian(Slice(blob, p + 1, 4))), p + 5),
                    0xf4 => (RdbReader.IntegerText(BinaryPrimitives.ReadInt64LittleEndian(Slice(blob, p + 1, 8))), p + 9),
                    _ => throw Corrupt(),
                };
            }
            // The entry's length, written backwards after it.
            var entryLength = p - start;
            p += entryLength <= 127 ? 1 : entryLength < 16383 ? 2 : entryLength < 2097151 ? 3 : entryLength < 268435455 ? 4 : 5;
            if (p >= blob.Length || (deep && DecodeBacklen(blob, p - 1) != entryLength))
            {
                throw Corrupt();
            }
            elements.Add(element);
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(blob[4..]);
        if (deep && (p != blob.Length - 1 || (count != UnknownCount && count != elements.Count)))
        {
            throw Corrupt();
        }
        return elements;
    }

    /// <summary>
    /// lpDecodeBacklen: the entry length whose last byte is at <paramref name="last"/>, read backwards in 7-bit
    /// groups; -1 when it runs past five bytes.
    /// </summary>
    private static long DecodeBacklen(ReadOnlySpan<byte> blob, int last)
    {
        long value = 0;
        for (int p = last, shift = 0; p >= 0; p--, shift += 7)
        {
            if (shift > 28)
            {
                return -1;
            }
            value |= (long)(blob[p] & 127) << shift;
            if ((blob[p] & 128) == 0)
            {
                return value;
            }
        }
        return -1;
    }

    private static RdbFormatException Corrupt() => new("Listpack integrity check failed");

    private static (byte[] Element, int Next) StringAt(ReadOnlySpan<byte> blob, int p)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(Slice(blob, p + 1, 4));
        return (Take(blob, p + 5, length), p + 5 + length);
    }

    private static byte At(ReadOnlySpan<byte> blob, int index)
        => index < blob.Length ? blob[index] : throw Corrupt();

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> blob, int start, int length)
        => length >= 0 && start + length < blob.Length ? blob.Slice(start, length) : throw Corrupt();

    private static byte[] Take(ReadOnlySpan<byte> blob, int start, int length) => Slice(blob, start, length).ToArray();
}
