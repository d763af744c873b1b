using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Tessera.Core.Hashing;

/// <summary>The key hash functions a nutcracker (twemproxy) pool can name in its <c>hash:</c> directive.</summary>
public enum NutcrackerHashKind
{
    OneAtATime,
    Md5,
    Crc16,
    Crc32,
    Crc32a,
    Fnv1_64,
    Fnv1a_64,
    Fnv1_32,
    Fnv1a_32,
    Hsieh,
    Murmur,
    Jenkins,
}

/// <summary>
/// twemproxy's key hashes, bit for bit as nutcracker 0.5.0 computes them on x86-64 so a pool moved to Tessera's
/// proxy keeps every key on the backend it already lives on. Several inherit libmemcached's quirks: bytes read
/// through a signed <c>char</c> are sign-extended before they are mixed in (one_at_a_time, fnv*, hsieh's tail),
/// fnv1a_64 runs in 32 bits with the 64-bit constants truncated, crc32 keeps only 15 bits, crc16 keeps 32.
/// </summary>
public static class NutcrackerHash
{
    private const ulong Fnv64Init = 0xcbf29ce484222325;
    private const ulong Fnv64Prime = 0x100000001b3;
    private const uint Fnv32Init = 2166136261;
    private const uint Fnv32Prime = 16777619;

    private static readonly uint[] Crc32Table = BuildCrc32Table();

    /// <summary>The configuration names, in twemproxy's order (index = <see cref="NutcrackerHashKind"/>).</summary>
    public static readonly string[] Names =
        ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins"];

    /// <summary>The hash named <paramref name="name"/> in a configuration, or false.</summary>
    public static bool TryParse(string name, out NutcrackerHashKind kind)
    {
        var index = Array.IndexOf(Names, name);
        kind = (NutcrackerHashKind)Math.Max(index, 0);
        return index >= 0;
    }

    /// <summary>The hash <paramref name="kind"/> of <paramref name="key"/>.</summary>
    public static uint Compute(NutcrackerHashKind kind, ReadOnlySpan<byte> key) => kind switch
    {
        NutcrackerHashKind.OneAtATime => OneAtATime(key),
        NutcrackerHashKind.Md5 => Md5(key),
        NutcrackerHashKind.Crc16 => Crc16.ComputeUnmasked(key),
        NutcrackerHashKind.Crc32 => (~Crc32Raw(key) >> 16) & 0x7fff,
        NutcrackerHashKind.Crc32a => ~Crc32Raw(key),
        NutcrackerHashKind.Fnv1_64 => Fnv1_64(key),
        NutcrackerHashKind.Fnv1a_64 => Fnv1a(key, unchecked((uint)Fnv64Init), unchecked((uint)Fnv64Prime)),
        NutcrackerHashKind.Fnv1_32 => Fnv1_32(key),
        NutcrackerHashKind.Fnv1a_32 => Fnv1a(key, Fnv32Init, Fnv32Prime),
        NutcrackerHashKind.Hsieh => Hsieh(key),
        NutcrackerHashKind.Murmur => Murmur(key),
        NutcrackerHashKind.Jenkins => Jenkins(key),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The full CRC-32 (IEEE) of <paramref name="key"/>, also Codis's slot hash.</summary>
    public static uint Crc32(ReadOnlySpan<byte> key) => ~Crc32Raw(key);

    /// <summary>Word <paramref name="word"/> (0-3) of the MD5 digest of <paramref name="data"/>, little-endian: ketama's points.</summary>
    public static uint Md5Word(ReadOnlySpan<byte> data, int word)
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(data, digest);
        return BinaryPrimitives.ReadUInt32LittleEndian(digest[(word * 4)..]);
    }

    private static uint Md5(ReadOnlySpan<byte> key) => Md5Word(key, 0);

    /// <summary>A byte as C reads it through a signed char into an unsigned int.</summary>
    private static uint SignExtended(byte b) => unchecked((uint)(sbyte)b);

    private static uint OneAtATime(ReadOnlySpan<byte> key)
    {
        uint value = 0;
        foreach (var b in key)
        {
            value += SignExtended(b);
            value += value << 10;
            value ^= value >> 6;
        }
        value += value << 3;
        value ^= value >> 11;
        value += value << 15;
        return value;
    }

    private static uint Crc32Raw(ReadOnlySpan<byte> key)
    {
        var crc = uint.MaxValue;
        var table = Crc32Table;
        foreach (var b in key)
        {
            crc = (crc >> 8) ^ table[(crc ^ b) & 0xff];
        }
        return crc;
    }

    private static uint Fnv1_64(ReadOnlySpan<byte> key)
    {
        var hash = Fnv64Init;
        foreach (var b in key)
        {
            hash *= Fnv64Prime;
            hash ^= unchecked((ulong)(sbyte)b);
        }
        return unchecked((uint)hash);
    }

    private static uint Fnv1_32(ReadOnlySpan<byte> key)
    {
        var hash = Fnv32Init;
        foreach (var b in key)
        {
            hash *= Fnv32Prime;
            hash ^= SignExtended(b);
        }
        return hash;
    }

    private static uint Fnv1a(ReadOnlySpan<byte> key, uint init, uint prime)
    {
        var hash = init;
        foreach (var b in key)
        {
            hash ^= SignExtended(b);
            hash *= prime;
        }
        return hash;
    }

    private static uint Hsieh(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            return 0;
        }
        uint hash = 0;
        var blocks = key.Length >> 2;
        var at = 0;
        for (var i = 0; i < blocks; i++, at += 4)
        {
            hash += BinaryPrimitives.ReadUInt16LittleEndian(key[at..]);
            var tmp = ((uint)BinaryPrimitives.ReadUInt16LittleEndian(key[(at + 2)..]) << 11) ^ hash;
            hash = (hash << 16) ^ tmp;
            hash += hash >> 11;
        }
        switch (key.Length & 3)
        {
            case 3:
                hash += BinaryPrimitives.ReadUInt16LittleEndian(key[at..]);
                hash ^= hash << 16;
                hash ^= SignExtended(key[at + 2]) << 18;
                hash += hash >> 11;
                break;
            case 2:
                hash += BinaryPrimitives.ReadUInt16LittleEndian(key[at..]);
                hash ^= hash << 11;
                hash += hash >> 17;
                break;
            case 1:
                hash += key[at];
                hash ^= hash << 10;
                hash += hash >> 1;
                break;
        }
        hash ^= hash << 3;
        hash += hash >> 5;
        hash ^= hash << 4;
        hash += hash >> 17;
        hash ^= hash << 25;
        hash += hash >> 6;
        return hash;
    }

    /// <summary>MurmurHash2 with libmemcached's seed (0xdeadbeef times the length).</summary>
    private static uint Murmur(ReadOnlySpan<byte> key)
    {
        const uint m = 0x5bd1e995;
        var length = (uint)key.Length;
        var h = (0xdeadbeef * length) ^ length;
        var at = 0;
        for (; key.Length - at >= 4; at += 4)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(key[at..]);
            k *= m;
            k ^= k >> 24;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = key[at..];
        if (tail.Length == 3)
        {
            h ^= (uint)tail[2] << 16;
        }
        if (tail.Length >= 2)
        {
            h ^= (uint)tail[1] << 8;
        }
        if (tail.Length >= 1)
        {
            h ^= tail[0];
            h *= m;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }

    /// <summary>Bob Jenkins's lookup3 hashlittle with initial value 13 (libmemcached's).</summary>
    private static uint Jenkins(ReadOnlySpan<byte> key)
    {
        var a = 0xdeadbeef + (uint)key.Length + 13;
        var b = a;
        var c = a;
        while (key.Length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(key);
            b += BinaryPrimitives.ReadUInt32LittleEndian(key[4..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(key[8..]);
            a -= c; a ^= uint.RotateLeft(c, 4); c += b;
            b -= a; b ^= uint.RotateLeft(a, 6); a += c;
            c -= b; c ^= uint.RotateLeft(b, 8); b += a;
            a -= c; a ^= uint.RotateLeft(c, 16); c += b;
            b -= a; b ^= uint.RotateLeft(a, 19); a += c;
            c -= b; c ^= uint.RotateLeft(b, 4); b += a;
            key = key[12..];
        }
        if (key.IsEmpty)
        {
            return c;
        }
        Span<byte> last = stackalloc byte[12];
        last.Clear();
        key.CopyTo(last);
        a += BinaryPrimitives.ReadUInt32LittleEndian(last);
        b += BinaryPrimitives.ReadUInt32LittleEndian(last[4..]);
        c += BinaryPrimitives.ReadUInt32LittleEndian(last[8..]);
        c ^= b; c -= uint.RotateLeft(b, 14);
        a ^= c; a -= uint.RotateLeft(c, 11);
        b ^= a; b -= uint.RotateLeft(a, 25);
        c ^= b; c -= uint.RotateLeft(b, 16);
        a ^= c; a -= uint.RotateLeft(c, 4);
        b ^= a; b -= uint.RotateLeft(a, 14);
        c ^= b; c -= uint.RotateLeft(b, 24);
        return c;
    }

    private static uint[] BuildCrc32Table()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
            table[i] = crc;
        }
        return table;
    }
}
