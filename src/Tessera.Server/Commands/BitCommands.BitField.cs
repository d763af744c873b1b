using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>BITFIELD and BITFIELD_RO: integers of 1-64 bits at any bit offset, with WRAP/SAT/FAIL overflow.</summary>
internal static partial class BitCommands
{
    private const string BitfieldTypeError = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

    private enum Overflow
    {
        Wrap,
        Sat,
        Fail,
    }

    private enum FieldOp
    {
        Get,
        Set,
        IncrBy,
    }

    private readonly record struct FieldOperation(FieldOp Op, long Offset, int Bits, bool Signed, long Value, Overflow Overflow);

    private static void BitField(CommandContext c, bool readOnly)
    {
        var ops = new List<FieldOperation>();
        var overflow = Overflow.Wrap;
        var writes = false;
        long highestWrite = 0;
        for (var j = 2; j < c.ArgCount; j++)
        {
            var remaining = c.ArgCount - j - 1;
            FieldOp op;
            if (c.ArgIs(j, "get"u8) && remaining >= 2)
            {
                op = FieldOp.Get;
            }
            else if (c.ArgIs(j, "set"u8) && remaining >= 3)
            {
                op = FieldOp.Set;
            }
            else if (c.ArgIs(j, "incrby"u8) && remaining >= 3)
            {
                op = FieldOp.IncrBy;
            }
            else if (c.ArgIs(j, "overflow"u8) && remaining >= 1)
            {
                j++;
                if (c.ArgIs(j, "wrap"u8))
                {
                    overflow = Overflow.Wrap;
                }
                else if (c.ArgIs(j, "sat"u8))
                {
                    overflow = Overflow.Sat;
                }
                else if (c.ArgIs(j, "fail"u8))
                {
                    overflow = Overflow.Fail;
                }
                else
                {
                    c.Error("ERR Invalid OVERFLOW type specified");
                    return;
                }
                continue;
            }
            else
            {
                c.SyntaxError();
                return;
            }
            if (!TryGetFieldType(c, j + 1, out var signed, out var bits) || !TryGetBitOffset(c, j + 2, bits, out var offset))
            {
                return;
            }
            long value = 0;
            if (op != FieldOp.Get)
            {
                writes = true;
                highestWrite = Math.Max(highestWrite, offset + bits - 1);
                if (!c.TryGetLong(j + 3, out value))
                {
                    return;
                }
            }
            ops.Add(new FieldOperation(op, offset, bits, signed, value, overflow));
            j += op == FieldOp.Get ? 2 : 3;
        }

        MutableString? target = null;
        var grew = false;
        ReadOnlySpan<byte> current = default;
        if (!writes)
        {
            if (c.Db.TryGet(c.Arg(1), out var entry) && !StringValue.TryGetBytes(entry.Item, out current))
            {
                c.WrongType();
                return;
            }
        }
        else
        {
            if (readOnly)
            {
                c.Error("ERR BITFIELD_RO only supports the GET subcommand");
                return;
            }
            target = StringForBits(c, highestWrite, out grew);
            if (target is null)
            {
                return;
            }
        }

        c.Reply.WriteArrayHeader(ops.Count);
        // Like Redis, a write that leaves the bits as they were is no change, unless the string was created or grown.
        var changes = 0;
        Span<byte> window = stackalloc byte[9];
        foreach (var op in ops)
        {
            if (op.Op == FieldOp.Get)
            {
                // Read through a zero-padded copy of the 9 bytes that can hold the field, like Redis.
                var bytes = target is null ? current : target.Span;
                var first = op.Offset >> 3;
                window.Clear();
                for (var i = 0; i < 9 && first + i < bytes.Length; i++)
                {
                    window[i] = bytes[(int)(first + i)];
                }
                var shifted = op.Offset - (first * 8);
                c.Reply.WriteInteger(op.Signed ? GetSigned(window, shifted, op.Bits) : (long)GetUnsigned(window, shifted, op.Bits));
                continue;
            }
            var data = target!.Writable;
            if (op.Signed)
            {
                var old = GetSigned(data, op.Offset, op.Bits);
                long next;
                long result;
                bool overflowed;
                if (op.Op == FieldOp.IncrBy)
                {
                    overflowed = CheckSigned(old, op.Value, op.Bits, op.Overflow, out var wrapped);
                    next = overflowed ? wrapped : unchecked(old + op.Value);
                    result = next;
                }
                else
                {
                    next = op.Value;
                    overflowed = CheckSigned(next, 0, op.Bits, op.Overflow, out var wrapped);
                    if (overflowed)
                    {
                        next = wrapped;
                    }
                    result = old;
                }
                if (overflowed && op.Overflow == Overflow.Fail)
                {
                    c.Reply.WriteNullBulk();
                }
                else
                {
                    c.Reply.WriteInteger(result);
                    SetUnsigned(data, op.Offset, op.Bits, (ulong)next);
                    changes += grew || old != next ? 1 : 0;
                }
            }
            else
            {
                var old = GetUnsigned(data, op.Offset, op.Bits);
                ulong next;
                ulong result;
                bool overflowed;
                if (op.Op == FieldOp.IncrBy)
                {
                    next = unchecked(old + (ulong)op.Value);
                    overflowed = CheckUnsigned(old, op.Value, op.Bits, op.Overflow, out var wrapped);
                    if (overflowed)
                    {
                        next = wrapped;
                    }
                    result = next;
                }
                else
                {
                    next = (ulong)op.Value;
                    overflowed = CheckUnsigned(next, 0, op.Bits, op.Overflow, out var wrapped);
                    if (overflowed)
                    {
                        next = wrapped;
                    }
                    result = old;
                }
                if (overflowed && op.Overflow == Overflow.Fail)
                {
                    c.Reply.WriteNullBulk();
                }
                else
                {
                    c.Reply.WriteInteger((long)result);
                    SetUnsigned(data, op.Offset, op.Bits, next);
                    changes += grew || old != next ? 1 : 0;
                }
            }
        }
        if (changes > 0)
        {
            c.Modified(c.Arg(1), KeyspaceEvents.String, "setbit"u8, changes);
        }
    }

    /// <summary>"i1".."i64" or "u1".."u63" (case-sensitive, as in Redis).</summary>
    private static bool TryGetFieldType(CommandContext c, int index, out bool signed, out int bits)
    {
        var text = c.Arg(index);
        signed = !text.IsEmpty && text[0] == (byte)'i';
        bits = 0;
        if (text.IsEmpty || text[0] is not ((byte)'i' or (byte)'u')
            || !RedisInteger.TryParse(text[1..], out var parsed) || parsed < 1 || parsed > (signed ? 64 : 63))
        {
            c.Error(BitfieldTypeError);
            return false;
        }
        bits = (int)parsed;
        return true;
    }

    private static ulong GetUnsigned(ReadOnlySpan<byte> p, long offset, int bits)
    {
        ulong value = 0;
        for (var j = 0; j < bits; j++, offset++)
        {
            var bit = (ulong)(p[(int)(offset >> 3)] >> (7 - (int)(offset & 7))) & 1;
            value = (value << 1) | bit;
        }
        return value;
    }

    private static long GetSigned(ReadOnlySpan<byte> p, long offset, int bits)
    {
        var value = (long)GetUnsigned(p, offset, bits);
        if (bits < 64 && (value & (1L << (bits - 1))) != 0)
        {
            value |= -1L << bits;
        }
        return value;
    }

    private static void SetUnsigned(Span<byte> p, long offset, int bits, ulong value)
    {
        for (var j = 0; j < bits; j++, offset++)
        {
            var bitValue = (value & (1UL << (bits - 1 - j))) != 0 ? 1 : 0;
            var index = (int)(offset >> 3);
            var bit = 7 - (int)(offset & 7);
            p[index] = (byte)((p[index] & ~(1 << bit)) | (bitValue << bit));
        }
    }

    /// <summary>Redis's checkUnsignedBitfieldOverflow, including its wrap and saturation values.</summary>
    private static bool CheckUnsigned(ulong value, long increment, int bits, Overflow overflow, out ulong limit)
    {
        limit = 0;
        var max = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        var maxIncrement = unchecked((long)(max - value));
        var minIncrement = unchecked(-(long)value);
        if (value > max || (increment > 0 && increment > maxIncrement))
        {
            limit = overflow == Overflow.Wrap ? Wrap() : max;
            return true;
        }
        if (increment < 0 && increment < minIncrement)
        {
            limit = overflow == Overflow.Wrap ? Wrap() : 0;
            return true;
        }
        return false;

        ulong Wrap() => unchecked(value + (ulong)increment) & ~(ulong.MaxValue << bits);
    }

    /// <summary>Redis's checkSignedBitfieldOverflow, including its wrap and saturation values.</summary>
    private static bool CheckSigned(long value, long increment, int bits, Overflow overflow, out long limit)
    {
        limit = 0;
        var max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        var min = -max - 1;
        var maxIncrement = unchecked((long)((ulong)max - (ulong)value));
        var minIncrement = unchecked(min - value);
        if (value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement))
        {
            limit = overflow == Overflow.Wrap ? Wrap() : max;
            return true;
        }
        if (value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement))
        {
            limit = overflow == Overflow.Wrap ? Wrap() : min;
            return true;
        }
        return false;

        long Wrap()
        {
            var sum = unchecked((ulong)value + (ulong)increment);
            if (bits < 64)
            {
                var mask = ulong.MaxValue << bits;
                sum = (sum & (1UL << (bits - 1))) != 0 ? sum | mask : sum & ~mask;
            }
            return (long)sum;
        }
    }
}
