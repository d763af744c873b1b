using System.Buffers.Binary;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// The other blobs RDB values are stored in: intsets (written and read), and the ziplists and zipmaps of older
/// Redis versions (read only, as Redis 7.0 reads them). Malformed blobs are <see cref="RdbFormatException"/>s.
/// </summary>
internal static class LegacyEncodings
{
    /// <summary>intset.c's blob of ascending integers: width (2, 4 or 8 bytes), count, values, little endian.</summary>
    public static byte[] BuildIntset(IReadOnlyList<long> ascending)
    {
        var width = 2;
        foreach (var value in ascending)
        {
            width = Math.Max(width, value is >= short.MinValue and <= short.MaxValue ? 2 : value is >= int.MinValue and <= int.MaxValue ? 4 : 8);
        }
        var blob = new byte[8 + (width * ascending.Count)];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), (uint)ascending.Count);
        Span<byte> value8 = stackalloc byte[8];
        for (var i = 0; i < ascending.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(value8, ascending[i]);
            value8[..width].CopyTo(blob.AsSpan(8 + (i * width)));
        }
        return blob;
    }

    /// <summary>
    /// An intset's members, checked as Redis's intsetValidateIntegrity: a valid width, a size that holds exactly
    /// the count, not empty; with <paramref name="deep"/> (sanitize-dump-payload) also strictly ascending.
    /// </summary>
    public static List<byte[]> ParseIntset(ReadOnlySpan<byte> blob, bool deep)
    {
        if (blob.Length < 8)
        {
            throw new RdbFormatException("Intset integrity check failed");
        }
        var width = BinaryPrimitives.ReadInt32LittleEndian(blob);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        if (width is not (2 or 4 or 8) || 8 + ((ulong)width * count) != (ulong)blob.Length || count == 0)
        {
            throw new RdbFormatException("Intset integrity check failed");
        }
        var values = new List<byte[]>((int)count);
        var previous = long.MinValue;
        for (var i = 0; i < (int)count; i++)
        {
            var at = blob.Slice(8 + (i * width), width);
            long value = width switch
            {
                2 => BinaryPrimitives.ReadInt16LittleEndian(at),
                4 => BinaryPrimitives.ReadInt32LittleEndian(at),
                _ => BinaryPrimitives.ReadInt64LittleEndian(at),
            };
            if (deep && i > 0 && value <= previous)
            {
                throw new RdbFormatException("Intset integrity check failed");
            }
            previous = value;
            values.Add(RdbReader.IntegerText(value));
        }
        return values;
    }

    /// <summary>
    /// ziplist.c's blob (Redis before 7.0): a header (total bytes, offset of the last entry, count), entries with the
    /// previous entry's length and an encoding, 0xFF. Redis converts ziplists when it loads them and so always checks
    /// them deeply (ziplistValidateIntegrity): every entry within bounds and stating the previous one's true size,
    /// the tail offset on the last entry, the terminator last, the count right.
    /// </summary>
    public static List<byte[]> ParseZiplist(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 11 || BinaryPrimitives.ReadUInt32LittleEndian(blob) != blob.Length || blob[^1] != 0xff
            || BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]) > blob.Length - 1)
        {
            throw ZiplistCorrupt();
        }
        var elements = new List<byte[]>();
        var p = 10;
        var previousSize = 0;
        var last = -1;
        while (Byte(blob, p) != 0xff)
        {
            var start = p;
            int statedPrevious;
            if (Byte(blob, p) < 254)
            {
                statedPrevious = blob[p];
                p += 1;
            }
            else
            {
                statedPrevious = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(Slice(blob, p + 1, 4)));
                p += 5;
            }
            if (statedPrevious != previousSize)
            {
                throw ZiplistCorrupt();
            }
            var encoding = Byte(blob, p);
            switch (encoding >> 6)
            {
                case 0:
                    elements.Add(Slice(blob, p + 1, encoding & 0x3f).ToArray());
                    p += 1 + (encoding & 0x3f);
                    break;
                case 1:
                    var length14 = ((encoding & 0x3f) << 8) | Byte(blob, p + 1);
                    elements.Add(Slice(blob, p + 2, length14).ToArray());
                    p += 2 + length14;
                    break;
                case 2:
                    var length32 = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(Slice(blob, p + 1, 4)));
                    elements.Add(Slice(blob, p + 5, length32).ToArray());
                    p += 5 + length32;
                    break;
                default:
                    (long value, int size) = encoding switch
                    {
                        0xc0 => (BinaryPrimitives.ReadInt16LittleEndian(Slice(blob, p + 1, 2)), 2),
                        0xd0 => (BinaryPrimitives.ReadInt32LittleEndian(Slice(blob, p + 1, 4)), 4),
                        0xe0 => (BinaryPrimitives.ReadInt64LittleEndian(Slice(blob, p + 1, 8)), 8),
                        0xf0 => (BinaryPrimitives.ReadInt32LittleEndian([0, .. Slice(blob, p + 1, 3)]) >> 8, 3),
                        0xfe => ((sbyte)Byte(blob, p + 1), 1),
                        >= 0xf1 and <= 0xfd => ((encoding & 0x0f) - 1, 0),
                        _ => throw ZiplistCorrupt(),
                    };
                    elements.Add(RdbReader.IntegerText(value));
                    p += 1 + size;
                    break;
            }
            // An entry must end before the terminator.
            if (p > blob.Length - 1)
            {
                throw ZiplistCorrupt();
            }
            previousSize = p - start;
            last = start;
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(blob[8..]);
        if (p != blob.Length - 1 || (last >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]) != last)
            || (count != ushort.MaxValue && count != elements.Count))
        {
            throw ZiplistCorrupt();
        }
        return elements;
    }

    /// <summary>
    /// zipmap.c's blob (Redis 2.x hashes): a count byte, field/value pairs with one-byte or five-byte lengths and a
    /// free-space byte, 0xFF. Checked deeply, as Redis always does (zipmapValidateIntegrity): the terminator
    /// last, every pair within bounds, at least one, and the count right unless it says 254 (too many to count).
    /// </summary>
    public static List<byte[]> ParseZipmap(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 2 || blob[^1] != 0xff)
        {
            throw ZipmapCorrupt();
        }
        var elements = new List<byte[]>();
        var p = 1;
        while (Byte(blob, p) != 0xff)
        {
            var length = Length(blob, ref p);
            elements.Add(Slice(blob, p, length).ToArray());
            p += length;
            length = Length(blob, ref p);
            var free = Byte(blob, p++);
            elements.Add(Slice(blob, p, length).ToArray());
            p += length + free;
            if (p > blob.Length - 1)
            {
                throw ZipmapCorrupt();
            }
        }
        if (elements.Count == 0 || (blob[0] != 254 && blob[0] != elements.Count / 2))
        {
            throw ZipmapCorrupt();
        }
        return elements;

        static int Length(ReadOnlySpan<byte> blob, ref int p)
        {
            var first = Byte(blob, p);
            if (first < 254)
            {
                p += 1;
                return first;
            }
            var length = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(Slice(blob, p + 1, 4)));
            p += 5;
            return length;
        }
    }

    private static RdbFormatException ZiplistCorrupt() => new("Ziplist integrity check failed");

    private static RdbFormatException ZipmapCorrupt() => new("Zipmap integrity check failed");

    private static byte Byte(ReadOnlySpan<byte> blob, int index)
        => index >= 0 && index < blob.Length ? blob[index] : throw new RdbFormatException("Encoded blob integrity check failed");

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> blob, int start, int length)
        => length >= 0 && start >= 0 && start + length <= blob.Length ? blob.Slice(start, length) : throw new RdbFormatException("Encoded blob integrity check failed");
}
