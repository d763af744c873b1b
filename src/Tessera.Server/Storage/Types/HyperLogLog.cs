using System.Buffers.Binary;
using Tessera.Core.Hashing;

namespace Tessera.Server.Storage.Types;

/// <summary>
/// Redis's HyperLogLog, byte for byte: a string starting with the 16-byte header "HYLL", an encoding byte, three
/// unused bytes and the cached cardinality (little endian; the top bit of its last byte marks it stale), followed
/// by 16384 six-bit registers, either dense (packed from the low bits up) or sparse (run-length opcodes ZERO
/// 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx). The same elements give the same string and the same
/// estimate (Ertl's improved estimator) as Redis, so values move between the two unchanged.
/// </summary>
internal static class HyperLogLog
{
    public const int HeaderSize = 16;
    public const int Registers = 1 << P;
    public const int DenseSize = HeaderSize + (Registers * Bits / 8);
    public const byte DenseEncoding = 0;
    public const byte SparseEncoding = 1;

    private const int P = 14;
    private const int Q = 64 - P;
    private const int Bits = 6;
    private const int RegisterMax = (1 << Bits) - 1;
    private const uint Seed = 0xadc83b19;
    private const int SparseValueMax = 32;
    private const int SparseValueMaxRun = 4;
    private const int SparseZeroMaxRun = 64;
    private const int SparseXZeroMaxRun = 16384;
    private const double AlphaInfinity = 0.721347520444481703680;

    /// <summary>An empty HyperLogLog: the header and sparse XZERO opcodes covering every register.</summary>
    public static MutableString CreateSparse()
    {
        var hll = MutableString.Zeroed(HeaderSize + 2);
        var bytes = hll.Writable;
        "HYLL"u8.CopyTo(bytes);
        bytes[4] = SparseEncoding;
        WriteXZero(bytes[HeaderSize..], SparseXZeroMaxRun);
        return hll;
    }

    /// <summary>Redis's isHLLObjectOrReply test on a string's bytes: the magic, a known encoding, a dense size that fits.</summary>
    public static bool IsValid(ReadOnlySpan<byte> value)
        => value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= SparseEncoding
            && (value[4] != DenseEncoding || value.Length == DenseSize);

    public static bool IsSparse(ReadOnlySpan<byte> hll) => hll[4] == SparseEncoding;

    /// <summary>The cached cardinality, or false when a change made it stale.</summary>
    public static bool TryGetCachedCount(ReadOnlySpan<byte> hll, out long count)
    {
        count = BinaryPrimitives.ReadInt64LittleEndian(hll[8..]);
        return (hll[15] & 0x80) == 0;
    }

    public static void SetCachedCount(Span<byte> hll, long count) => BinaryPrimitives.WriteInt64LittleEndian(hll[8..], count);

    public static void InvalidateCache(Span<byte> hll) => hll[15] |= 0x80;

    /// <summary>
    /// Adds an element: 1 when a register grew (the estimate may change), 0 when not, -1 when the sparse
    /// representation is corrupt. The HyperLogLog turns dense once a register exceeds 32 or the sparse form would
    /// pass <paramref name="sparseMaxBytes"/>.
    /// </summary>
    public static int Add(MutableString hll, ReadOnlySpan<byte> element, long sparseMaxBytes)
    {
        var count = PatternLength(element, out var index);
        return SetIfGreater(hll, index, count, sparseMaxBytes);
    }

    /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/> if lower; as <see cref="Add"/>.</summary>
    public static int SetIfGreater(MutableString hll, int index, int count, long sparseMaxBytes)
    {
        if (hll.Span[4] == DenseEncoding)
        {
            return DenseSetIfGreater(hll.Writable[HeaderSize..], index, count) ? 1 : 0;
        }
        return SparseSetIfGreater(hll, index, count, sparseMaxBytes);
    }

    /// <summary>
    /// The register index an element hashes to and the length of its "00..1" pattern: Redis's hllPatLen, counting
    /// from the bit above the index bits, with bit Q forced so the count is at most Q + 1.
    /// </summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        var hash = MurmurHash64A.Compute(element, Seed);
        index = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return System.Numerics.BitOperations.TrailingZeroCount(hash) + 1;
    }

    /// <summary>Register <paramref name="index"/> of dense registers (the bytes after the header).</summary>
    public static int DenseGet(ReadOnlySpan<byte> registers, int index)
    {
        var bit = index * Bits;
        var b = bit >> 3;
        var shift = bit & 7;
        int low = registers[b];
        // The last register's second byte lies past the end (Redis reads the string's NUL terminator).
        int high = b + 1 < registers.Length ? registers[b + 1] : 0;
        return ((low >> shift) | (high << (8 - shift))) & RegisterMax;
    }

    public static void DenseSet(Span<byte> registers, int index, int value)
    {
        var bit = index * Bits;
        var b = bit >> 3;
        var shift = bit & 7;
        registers[b] = (byte)((registers[b] & ~(RegisterMax << shift)) | (value << shift));
        if (b + 1 < registers.Length)
        {
            registers[b + 1] = (byte)((registers[b + 1] & ~(RegisterMax >> (8 - shift))) | (value >> (8 - shift)));
        }
    }

    /// <summary>
    /// Raises each of <paramref name="max"/> (one byte per register) to the HyperLogLog's register; false when the
    /// sparse representation is corrupt.
    /// </summary>
    public static bool MergeInto(ReadOnlySpan<byte> hll, Span<byte> max)
    {
        var registers = hll[HeaderSize..];
        if (hll[4] == DenseEncoding)
        {
            for (var i = 0; i < Registers; i++)
            {
                var value = (byte)DenseGet(registers, i);
                if (value > max[i])
                {
                    max[i] = value;
                }
            }
            return true;
        }
        var index = 0;
        for (var p = 0; p < registers.Length;)
        {
            var op = registers[p];
            if (IsZero(op))
            {
                index += ZeroRun(op);
                p++;
            }
            else if (IsXZero(op))
            {
                index += XZeroRun(registers, p);
                p += 2;
            }
            else
            {
                var run = ValueRun(op);
                var value = (byte)ValueOf(op);
                if (index + run > Registers)
                {
                    return false;
                }
                for (var end = index + run; index < end; index++)
                {
                    if (value > max[index])
                    {
                        max[index] = value;
                    }
                }
                p++;
            }
        }
        return index == Registers;
    }

    /// <summary>The estimated cardinality; <paramref name="invalid"/> when a sparse representation does not cover every register.</summary>
    public static long Count(ReadOnlySpan<byte> hll, out bool invalid)
    {
        Span<int> histogram = stackalloc int[64];
        invalid = false;
        var registers = hll[HeaderSize..];
        if (hll[4] == DenseEncoding)
        {
            for (var i = 0; i < Registers; i++)
            {
                histogram[DenseGet(registers, i)]++;
            }
        }
        else
        {
            var index = 0;
            for (var p = 0; p < registers.Length;)
            {
                var op = registers[p];
                int run;
                if (IsZero(op))
                {
                    run = ZeroRun(op);
                    histogram[0] += run;
                    p++;
                }
                else if (IsXZero(op))
                {
                    run = XZeroRun(registers, p);
                    histogram[0] += run;
                    p += 2;
                }
                else
                {
                    run = ValueRun(op);
                    histogram[ValueOf(op)] += run;
                    p++;
                }
                index += run;
            }
            invalid = index != Registers;
        }
        return Estimate(histogram);
    }

    /// <summary>The estimate for registers held one per byte (the union PFCOUNT builds over several keys).</summary>
    public static long CountRaw(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[64];
        foreach (var value in registers)
        {
            histogram[value]++;
        }
        return Estimate(histogram);
    }

    /// <summary>The dense form of a sparse HyperLogLog (header and cached count kept); false when it is corrupt.</summary>
    public static bool TryToDense(MutableString hll)
    {
        var sparse = hll.Span;
        if (sparse[4] == DenseEncoding)
        {
            return true;
        }
        var dense = new byte[DenseSize];
        sparse[..HeaderSize].CopyTo(dense);
        dense[4] = DenseEncoding;
        var registers = dense.AsSpan(HeaderSize);
        var index = 0;
        for (var p = HeaderSize; p < sparse.Length;)
        {
            var op = sparse[p];
            if (IsZero(op))
            {
                index += ZeroRun(op);
                p++;
            }
            else if (IsXZero(op))
            {
                index += XZeroRun(sparse, p);
                p += 2;
            }
            else
            {
                var run = ValueRun(op);
                if (index + run > Registers)
                {
                    break;
                }
                for (var end = index + run; index < end; index++)
                {
                    DenseSet(registers, index, ValueOf(op));
                }
                p++;
            }
        }
        if (index != Registers)
        {
            return false;
        }
        hll.ReplaceWith(dense);
        return true;
    }

    /// <summary>PFDEBUG DECODE's text for a sparse HyperLogLog: "Z:run" (XZERO), "z:run" (ZERO), "v:value,run".</summary>
    public static string Decode(ReadOnlySpan<byte> hll)
    {
        var text = new System.Text.StringBuilder();
        var ops = hll[HeaderSize..];
        for (var p = 0; p < ops.Length;)
        {
            var op = ops[p];
            if (IsZero(op))
            {
                text.Append("z:").Append(ZeroRun(op)).Append(' ');
                p++;
            }
            else if (IsXZero(op))
            {
                text.Append("Z:").Append(XZeroRun(ops, p)).Append(' ');
                p += 2;
            }
            else
            {
                text.Append("v:").Append(ValueOf(op)).Append(',').Append(ValueRun(op)).Append(' ');
                p++;
            }
        }
        return text.ToString().TrimEnd(' ');
    }

    /// <summary>Ertl's improved estimator over the histogram of register values (Redis 5+).</summary>
    private static long Estimate(ReadOnlySpan<int> histogram)
    {
        const double m = Registers;
        var z = m * Tau((m - histogram[Q + 1]) / m);
        for (var j = Q; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInfinity * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1)
        {
            return double.PositiveInfinity;
        }
        double previous;
        var y = 1.0;
        var z = x;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (previous != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x is 0 or 1)
        {
            return 0;
        }
        double previous;
        var y = 1.0;
        var z = 1 - x;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (previous != z);
        return z / 3;
    }

    private static bool DenseSetIfGreater(Span<byte> registers, int index, int count)
    {
        if (count <= DenseGet(registers, index))
        {
            return false;
        }
        DenseSet(registers, index, count);
        return true;
    }

    /// <summary>
    /// Redis's hllSparseSet: finds the opcode covering the register, splits it into at most three opcodes (an
    /// XZERO split in the middle becomes XZERO VAL XZERO), then merges equal adjacent VAL opcodes near the change.
    /// </summary>
    private static int SparseSetIfGreater(MutableString hll, int index, int count, long sparseMaxBytes)
    {
        if (count > SparseValueMax)
        {
            return Promote(hll, index, count);
        }
        var bytes = hll.Span;
        var end = bytes.Length;
        var p = HeaderSize;
        var previous = -1;
        var first = 0;
        var span = 0;
        while (p < end)
        {
            var op = bytes[p];
            var length = 1;
            if (IsZero(op))
            {
                span = ZeroRun(op);
            }
            else if (IsValue(op))
            {
                span = ValueRun(op);
            }
            else
            {
                span = XZeroRun(bytes, p);
                length = 2;
            }
            if (index <= first + span - 1)
            {
                break;
            }
            previous = p;
            p += length;
            first += span;
        }
        if (span == 0 || p >= end)
        {
            return -1;
        }
        var current = bytes[p];
        var isXZero = IsXZero(current);
        var isZero = IsZero(current);
        var run = isZero ? ZeroRun(current) : isXZero ? XZeroRun(bytes, p) : ValueRun(current);
        if (!isZero && !isXZero)
        {
            if (ValueOf(current) >= count)
            {
                return 0;
            }
            if (run == 1)
            {
                hll.Writable[p] = ValueOp(count, 1);
                return Updated(hll, previous);
            }
        }
        if (isZero && run == 1)
        {
            hll.Writable[p] = ValueOp(count, 1);
            return Updated(hll, previous);
        }

        Span<byte> sequence = stackalloc byte[5];
        var n = 0;
        var last = first + span - 1;
        if (isZero || isXZero)
        {
            if (index != first)
            {
                n += WriteZeros(sequence[n..], index - first);
            }
            sequence[n++] = ValueOp(count, 1);
            if (index != last)
            {
                n += WriteZeros(sequence[n..], last - index);
            }
        }
        else
        {
            var value = ValueOf(current);
            if (index != first)
            {
                sequence[n++] = ValueOp(value, index - first);
            }
            sequence[n++] = ValueOp(count, 1);
            if (index != last)
            {
                sequence[n++] = ValueOp(value, last - index);
            }
        }
        var oldLength = isXZero ? 2 : 1;
        var delta = n - oldLength;
        if (delta > 0 && end + delta > sparseMaxBytes)
        {
            return Promote(hll, index, count);
        }
        var next = p + oldLength;
        var newLength = end + delta;
        hll.EnsureLength(Math.Max(newLength, p + n));
        var writable = hll.Buffer.AsSpan();
        if (next < end)
        {
            writable[next..end].CopyTo(writable[(next + delta)..]);
        }
        sequence[..n].CopyTo(writable[p..]);
        hll.Truncate(newLength);
        return Updated(hll, previous);
    }

    /// <summary>Merges adjacent VAL opcodes of equal value around the change (up to five opcodes from the previous one).</summary>
    private static int Updated(MutableString hll, int previous)
    {
        var p = previous >= 0 ? previous : HeaderSize;
        var scan = 5;
        while (p < hll.Length && scan-- > 0)
        {
            var bytes = hll.Writable;
            var op = bytes[p];
            if (IsXZero(op))
            {
                p += 2;
                continue;
            }
            if (IsZero(op))
            {
                p++;
                continue;
            }
            if (p + 1 < bytes.Length && IsValue(bytes[p + 1]) && ValueOf(op) == ValueOf(bytes[p + 1]))
            {
                var length = ValueRun(op) + ValueRun(bytes[p + 1]);
                if (length <= SparseValueMaxRun)
                {
                    bytes[p + 1] = ValueOp(ValueOf(op), length);
                    bytes[(p + 1)..].CopyTo(bytes[p..]);
                    hll.Truncate(bytes.Length - 1);
                    // Try to merge the merged opcode with the one on its right too.
                    continue;
                }
            }
            p++;
        }
        InvalidateCache(hll.Writable);
        return 1;
    }

    private static int Promote(MutableString hll, int index, int count)
    {
        if (!TryToDense(hll))
        {
            return -1;
        }
        DenseSet(hll.Writable[HeaderSize..], index, count);
        return 1;
    }

    private static int WriteZeros(Span<byte> destination, int run)
    {
        if (run > SparseZeroMaxRun)
        {
            WriteXZero(destination, run);
            return 2;
        }
        destination[0] = (byte)(run - 1);
        return 1;
    }

    private static void WriteXZero(Span<byte> destination, int run)
    {
        destination[0] = (byte)(((run - 1) >> 8) | 0x40);
        destination[1] = (byte)((run - 1) & 0xff);
    }

    private static byte ValueOp(int value, int run) => (byte)((((value - 1) << 2) | (run - 1)) | 0x80);

    private static bool IsZero(byte op) => (op & 0xc0) == 0;

    private static bool IsXZero(byte op) => (op & 0xc0) == 0x40;

    private static bool IsValue(byte op) => (op & 0x80) != 0;

    private static int ZeroRun(byte op) => (op & 0x3f) + 1;

    /// <summary>
    /// An XZERO opcode's run; a truncated opcode reads its second byte as 0, as Redis reads the string's NUL
    /// terminator, so corrupt values behave the same in both.
    /// </summary>
    private static int XZeroRun(ReadOnlySpan<byte> bytes, int p)
        => (((bytes[p] & 0x3f) << 8) | (p + 1 < bytes.Length ? bytes[p + 1] : 0)) + 1;

    private static int ValueOf(byte op) => ((op >> 2) & 0x1f) + 1;

    private static int ValueRun(byte op) => (op & 0x3) + 1;
}
