using System.Numerics;
using System.Runtime.InteropServices;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>Bit operations on strings (Redis's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.</summary>
internal static partial class BitCommands
{
    private const string BitOffsetError = "ERR bit offset is not an integer or out of range";

    public static void Register(CommandRegistry r)
    {
        r.Add("setbit", SetBit);
        r.Add("getbit", GetBit);
        r.Add("bitcount", BitCount);
        r.Add("bitpos", BitPos);
        r.Add("bitop", BitOp);
        r.Add("bitfield", c => BitField(c, readOnly: false));
        r.Add("bitfield_ro", c => BitField(c, readOnly: true));
    }

    /// <summary>
    /// A bit offset argument (getBitOffsetFromArgument): a non-negative integer below proto-max-bulk-len * 8; with
    /// <paramref name="bits"/> &gt; 0, "#n" means n * bits (BITFIELD).
    /// </summary>
    private static bool TryGetBitOffset(CommandContext c, int index, int bits, out long offset)
    {
        var text = c.Arg(index);
        var useHash = bits > 0 && !text.IsEmpty && text[0] == (byte)'#';
        if (!RedisInteger.TryParse(useHash ? text[1..] : text, out offset))
        {
            c.Error(BitOffsetError);
            return false;
        }
        if (useHash)
        {
            offset = unchecked(offset * bits);
        }
        if (offset < 0 || (offset >> 3) >= c.Server.Config.ProtoMaxBulkLen.Value)
        {
            c.Error(BitOffsetError);
            return false;
        }
        return true;
    }

    /// <summary>
    /// The string at the key, created or zero-extended to hold bit <paramref name="maxBit"/> (lookupStringForBitCommand).
    /// Null after a WRONGTYPE reply. <paramref name="grew"/> tells whether it was created or lengthened.
    /// </summary>
    private static MutableString? StringForBits(CommandContext c, long maxBit, out bool grew)
    {
        grew = false;
        var db = c.Db;
        var key = c.Arg(1);
        var length = (int)(maxBit >> 3) + 1;
        if (!db.TryGet(key, out var entry, LookupFlags.Write))
        {
            var created = MutableString.Zeroed(length);
            db.Add(key, created);
            grew = true;
            return created;
        }
        if (!StringValue.IsString(entry.Item))
        {
            c.WrongType();
            return null;
        }
        var mutable = StringCommands.ToMutable(db, entry);
        var before = mutable.MemoryBytes;
        grew = mutable.Length < length;
        mutable.EnsureLength(length);
        db.AdjustMemory(mutable.MemoryBytes - before);
        return mutable;
    }

    private static void SetBit(CommandContext c)
    {
        if (!TryGetBitOffset(c, 2, 0, out var offset))
        {
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(3), out var on) || (on & ~1L) != 0)
        {
            c.Error("ERR bit is not an integer or out of range");
            return;
        }
        var target = StringForBits(c, offset, out var grew);
        if (target is null)
        {
            return;
        }
        var bytes = target.Writable;
        var index = (int)(offset >> 3);
        var bit = 7 - (int)(offset & 7);
        var old = (bytes[index] >> bit) & 1;
        if (grew || old != on)
        {
            bytes[index] = (byte)((bytes[index] & ~(1 << bit)) | ((int)on << bit));
            c.Modified(c.Arg(1), KeyspaceEvents.String, "setbit"u8);
        }
        c.Reply.WriteLiteral(old == 1 ? Replies.One : Replies.Zero);
    }

    private static void GetBit(CommandContext c)
    {
        if (!TryGetBitOffset(c, 2, 0, out var offset) || !StringCommands.TryReadString(c, c.Arg(1), out var value, out _))
        {
            return;
        }
        var index = offset >> 3;
        var bit = index < value.Length ? (value[(int)index] >> (7 - (int)(offset & 7))) & 1 : 0;
        c.Reply.WriteLiteral(bit == 1 ? Replies.One : Replies.Zero);
    }

    /// <summary>
    /// Turns BITCOUNT/BITPOS start..end (bytes, or bits with BIT) into a byte range plus masks of the bits of the
    /// edge bytes that lie outside it, as Redis does. Returns false when the range is empty.
    /// </summary>
    private static bool ResolveRange(long length, ref long start, ref long end, bool isBit, out int firstMask, out int lastMask)
    {
        firstMask = 0;
        lastMask = 0;
        var total = isBit ? length << 3 : length;
        if (start < 0)
        {
            start = total + start;
        }
        if (end < 0)
        {
            end = total + end;
        }
        start = Math.Max(0, start);
        end = Math.Max(0, end);
        if (end >= total)
        {
            end = total - 1;
        }
        if (isBit && start <= end)
        {
            firstMask = ~((1 << (8 - (int)(start & 7))) - 1) & 0xFF;
            lastMask = (1 << (7 - (int)(end & 7))) - 1;
            start >>= 3;
            end >>= 3;
        }
        return start <= end;
    }

    /// <summary>BYTE or BIT at argument <paramref name="index"/>; false (after a syntax error) for anything else.</summary>
    private static bool TryGetUnit(CommandContext c, int index, out bool isBit)
    {
        isBit = c.ArgIs(index, "bit"u8);
        if (!isBit && !c.ArgIs(index, "byte"u8))
        {
            c.SyntaxError();
            return false;
        }
        return true;
    }

    private static void BitCount(CommandContext c)
    {
        if (!c.Db.TryGet(c.Arg(1), out var entry))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var value))
        {
            c.WrongType();
            return;
        }
        long start = 0;
        long end = value.Length - 1;
        var firstMask = 0;
        var lastMask = 0;
        if (c.ArgCount is 4 or 5)
        {
            if (!c.TryGetLong(2, out start) || !c.TryGetLong(3, out end))
            {
                return;
            }
            if (start < 0 && end < 0 && start > end)
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
            var isBit = false;
            if (c.ArgCount == 5 && !TryGetUnit(c, 4, out isBit))
            {
                return;
            }
            ResolveRange(value.Length, ref start, ref end, isBit, out firstMask, out lastMask);
        }
        else if (c.ArgCount != 2)
        {
            c.SyntaxError();
            return;
        }
        if (start > end)
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var count = PopCount(value.Slice((int)start, (int)(end - start + 1)));
        if (firstMask != 0)
        {
            count -= BitOperations.PopCount((uint)(value[(int)start] & firstMask));
        }
        if (lastMask != 0)
        {
            count -= BitOperations.PopCount((uint)(value[(int)end] & lastMask));
        }
        c.Reply.WriteInteger(count);
    }

    private static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            count += BitOperations.PopCount(word);
        }
        foreach (var b in bytes[(words.Length * 8)..])
        {
            count += BitOperations.PopCount(b);
        }
        return count;
    }

    private static void BitPos(CommandContext c)
    {
        if (!RedisInteger.TryParse(c.Arg(2), out var bit))
        {
            c.NotInteger();
            return;
        }
        if (bit is not (0 or 1))
        {
            c.Error("ERR The bit argument must be 1 or 0.");
            return;
        }
        if (!c.Db.TryGet(c.Arg(1), out var entry))
        {
            c.Reply.WriteInteger(bit == 1 ? -1 : 0);
            return;
        }
        if (!StringValue.TryGetBytes(entry.Item, out var value))
        {
            c.WrongType();
            return;
        }
        long start = 0;
        long end = value.Length - 1;
        var endGiven = false;
        var firstMask = 0;
        var lastMask = 0;
        if (c.ArgCount is 4 or 5 or 6)
        {
            if (!c.TryGetLong(3, out start))
            {
                return;
            }
            var isBit = false;
            if (c.ArgCount == 6 && !TryGetUnit(c, 5, out isBit))
            {
                return;
            }
            if (c.ArgCount >= 5)
            {
                if (!c.TryGetLong(4, out end))
                {
                    return;
                }
                endGiven = true;
            }
            else
            {
                end = isBit ? ((long)value.Length << 3) + 7 : value.Length - 1;
            }
            ResolveRange(value.Length, ref start, ref end, isBit, out firstMask, out lastMask);
        }
        else if (c.ArgCount != 3)
        {
            c.SyntaxError();
            return;
        }
        if (start > end)
        {
            c.Reply.WriteInteger(-1);
            return;
        }
        c.Reply.WriteInteger(FindBit(value, (int)start, (int)end, (int)bit, firstMask, lastMask, endGiven));
    }

    /// <summary>BITPOS's search over bytes start..end with the edge masks, following Redis's bitposCommand.</summary>
    private static long FindBit(ReadOnlySpan<byte> p, int start, int end, int bit, int firstMask, int lastMask, bool endGiven)
    {
        long bytes = end - start + 1;
        long pos;
        Span<byte> one = stackalloc byte[1];
        if (firstMask != 0)
        {
            var b = bit == 1 ? p[start] & ~firstMask : p[start] | firstMask;
            if (lastMask != 0 && bytes == 1)
            {
                b = bit == 1 ? b & ~lastMask : b | lastMask;
            }
            one[0] = (byte)b;
            pos = BitPosition(one, bit);
            if (bytes == 1 || (pos != -1 && pos != 8))
            {
                return Result(pos, bytes, start);
            }
            start++;
            bytes--;
        }
        var current = bytes - (lastMask != 0 ? 1 : 0);
        if (current > 0)
        {
            pos = BitPosition(p.Slice(start, (int)current), bit);
            if (bytes == current || (pos != -1 && pos != current << 3))
            {
                return Result(pos, bytes, start);
            }
            start += (int)current;
            bytes -= current;
        }
        one[0] = (byte)(bit == 1 ? p[end] & ~lastMask : p[end] | lastMask);
        pos = BitPosition(one, bit);
        return Result(pos, bytes, start);

        long Result(long found, long remaining, int from)
        {
            // Looking for a 0 in an explicit range: the bit after the range does not count.
            if (endGiven && bit == 0 && found == remaining << 3)
            {
                return -1;
            }
            return found == -1 ? -1 : found + ((long)from << 3);
        }
    }

    /// <summary>
    /// Position of the first bit equal to <paramref name="bit"/> (redisBitpos); for 0 when none is clear, the
    /// position just after the bytes, for 1 when none is set, -1.
    /// </summary>
    private static long BitPosition(ReadOnlySpan<byte> bytes, int bit)
    {
        var skip = bit == 1 ? (byte)0 : (byte)0xFF;
        var i = bytes.IndexOfAnyExcept(skip);
        if (i < 0)
        {
            return bit == 1 ? -1 : (long)bytes.Length << 3;
        }
        var b = bit == 1 ? bytes[i] : (byte)~bytes[i];
        return ((long)i << 3) + BitOperations.LeadingZeroCount((uint)b) - 24;
    }

    private static void BitOp(CommandContext c)
    {
        var op = c.ArgIs(1, "and"u8) ? '&' : c.ArgIs(1, "or"u8) ? '|' : c.ArgIs(1, "xor"u8) ? '^' : c.ArgIs(1, "not"u8) ? '~' : '?';
        if (op == '?')
        {
            c.SyntaxError();
            return;
        }
        if (op == '~' && c.ArgCount != 4)
        {
            c.Error("ERR BITOP NOT must be called with a single source key.");
            return;
        }
        var count = c.ArgCount - 3;
        var sources = new byte[count][];
        var maxLength = 0;
        for (var j = 0; j < count; j++)
        {
            if (!c.Db.TryGet(c.Arg(j + 3), out var entry))
            {
                sources[j] = [];
                continue;
            }
            if (!StringValue.TryGetBytes(entry.Item, out var value))
            {
                c.WrongType();
                return;
            }
            sources[j] = value.ToArray();
            maxLength = Math.Max(maxLength, value.Length);
        }
        var db = c.Db;
        var destination = c.Arg(2);
        if (maxLength == 0)
        {
            if (db.Delete(destination))
            {
                c.Modified(destination, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var result = new byte[maxLength];
        for (var i = 0; i < maxLength; i++)
        {
            var output = i < sources[0].Length ? sources[0][i] : 0;
            if (op == '~')
            {
                output = ~output;
            }
            for (var k = 1; k < count; k++)
            {
                var b = i < sources[k].Length ? sources[k][i] : 0;
                output = op switch
                {
                    '&' => output & b,
                    '|' => output | b,
                    _ => output ^ b,
                };
            }
            result[i] = (byte)output;
        }
        db.SetString(destination, result, StringEncoding.Raw);
        c.Modified(destination, KeyspaceEvents.String, "set"u8);
        c.Reply.WriteInteger(maxLength);
    }
}
