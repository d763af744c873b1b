using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Tessera.Core.Hashing;

/// <summary>
/// A fast seeded 64-bit hash for in-memory tables (the multiply-and-fold construction of wyhash, which is public
/// domain). Seeded at random per process, like Redis's siphash seed, so clients cannot aim keys at one bucket.
/// </summary>
public static class KeyHash
{
    private const ulong P0 = 0xa0761d6478bd642f;
    private const ulong P1 = 0xe7037ed1a0b428db;
    private const ulong P2 = 0x8ebc6af09c88c6e3;
    private const ulong P3 = 0x589965cc75374cc3;

    /// <summary>This process's seed.</summary>
    public static readonly ulong Seed = (ulong)Random.Shared.NextInt64() ^ P3;

    /// <summary>Hash of <paramref name="data"/> with the process seed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Compute(ReadOnlySpan<byte> data) => Compute(data, Seed);

    /// <summary>Hash of <paramref name="data"/> with <paramref name="seed"/>.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data, ulong seed)
    {
        var length = data.Length;
        var s = seed ^ P0;
        ulong a;
        ulong b;
        if (length <= 16)
        {
            if (length >= 4)
            {
                var shift = (length >> 3) << 2;
                a = ((ulong)Read32(data, 0) << 32) | Read32(data, shift);
                b = ((ulong)Read32(data, length - 4) << 32) | Read32(data, length - 4 - shift);
            }
            else if (length > 0)
            {
                a = ((ulong)data[0] << 16) | ((ulong)data[length >> 1] << 8) | data[length - 1];
                b = 0;
            }
            else
            {
                a = 0;
                b = 0;
            }
        }
        else
        {
            var p = data;
            if (p.Length > 48)
            {
                var s1 = s;
                var s2 = s;
                do
                {
                    s = Mix(Read64(p, 0) ^ P1, Read64(p, 8) ^ s);
                    s1 = Mix(Read64(p, 16) ^ P2, Read64(p, 24) ^ s1);
                    s2 = Mix(Read64(p, 32) ^ P3, Read64(p, 40) ^ s2);
                    p = p[48..];
                }
                while (p.Length > 48);
                s ^= s1 ^ s2;
            }
            while (p.Length > 16)
            {
                s = Mix(Read64(p, 0) ^ P1, Read64(p, 8) ^ s);
                p = p[16..];
            }
            a = Read64(data, length - 16);
            b = Read64(data, length - 8);
        }
        a ^= P1;
        b ^= s;
        var hi = Math.BigMul(a, b, out var lo);
        return Mix(lo ^ P0 ^ (ulong)length, hi ^ P1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong a, ulong b)
    {
        var hi = Math.BigMul(a, b, out var lo);
        return hi ^ lo;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Read32(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read64(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
}
