using System.Buffers.Binary;

namespace Tessera.Core.Hashing;

/// <summary>
/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks little endian as Redis's endian-neutral
/// variant does. HyperLogLog hashes elements with it, so registers match Redis's for the same input.
/// </summary>
public static class MurmurHash64A
{
    private const ulong M = 0xc6a4a7935bd1e995;
    private const int R = 47;

    public static ulong Compute(ReadOnlySpan<byte> data, uint seed)
    {
        var h = seed ^ ((ulong)data.Length * M);
        var blocks = data.Length & ~7;
        for (var i = 0; i < blocks; i += 8)
        {
            var k = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            k *= M;
            k ^= k >> R;
            k *= M;
            h ^= k;
            h *= M;
        }
        var tail = data[blocks..];
        if (!tail.IsEmpty)
        {
            for (var i = tail.Length - 1; i >= 0; i--)
            {
                h ^= (ulong)tail[i] << (8 * i);
            }
            h *= M;
        }
        h ^= h >> R;
        h *= M;
        h ^= h >> R;
        return h;
    }
}
