namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// LZF, the compression of RDB strings: a stream of literal runs (a control byte below 32 says how many bytes
/// follow, minus one) and back references (length in the top three bits, extended by a byte when they are all
/// set; a 13-bit distance). Any valid stream loads in Redis; the compressor is our own.
/// </summary>
internal static class Lzf
{
    private const int HashBits = 13;
    private const int MaxLiteral = 32;
    private const int MaxOffset = 1 << 13;
    private const int MaxMatch = 264;

    /// <summary>Compresses into <paramref name="output"/>; returns the length written, or 0 when it does not fit.</summary>
    public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        Span<int> table = stackalloc int[1 << HashBits];
        table.Fill(-1);
        var op = 0;
        var literalStart = 0;
        var ip = 0;
        while (ip + 2 < input.Length)
        {
            var hash = Hash(input, ip);
            var candidate = table[hash];
            table[hash] = ip;
            var distance = ip - candidate - 1;
            if (candidate < 0 || distance >= MaxOffset || input[candidate] != input[ip] || input[candidate + 1] != input[ip + 1]
                || input[candidate + 2] != input[ip + 2])
            {
                ip++;
                continue;
            }
            var limit = Math.Min(MaxMatch, input.Length - ip);
            var length = 3;
            while (length < limit && input[candidate + length] == input[ip + length])
            {
                length++;
            }
            if (!FlushLiterals(input, literalStart, ip, output, ref op) || !WriteReference(length - 2, distance, output, ref op))
            {
                return 0;
            }
            ip += length;
            literalStart = ip;
        }
        return FlushLiterals(input, literalStart, input.Length, output, ref op) ? op : 0;
    }

    private static int Hash(ReadOnlySpan<byte> input, int at)
        => (int)((((uint)input[at] << 16) | ((uint)input[at + 1] << 8) | input[at + 2]) * 2654435761u >> (32 - HashBits));

    /// <summary>Writes input[start..end) as literal runs of at most 32 bytes.</summary>
    private static bool FlushLiterals(ReadOnlySpan<byte> input, int start, int end, Span<byte> output, ref int op)
    {
        while (start < end)
        {
            var run = Math.Min(MaxLiteral, end - start);
            if (op + 1 + run > output.Length)
            {
                return false;
            }
            output[op++] = (byte)(run - 1);
            input.Slice(start, run).CopyTo(output[op..]);
            op += run;
            start += run;
        }
        return true;
    }

    /// <summary>A back reference of <paramref name="length"/> + 2 bytes, <paramref name="distance"/> + 1 bytes back.</summary>
    private static bool WriteReference(int length, int distance, Span<byte> output, ref int op)
    {
        if (op + (length >= 7 ? 3 : 2) > output.Length)
        {
            return false;
        }
        if (length < 7)
        {
            output[op++] = (byte)((length << 5) | (distance >> 8));
        }
        else
        {
            output[op++] = (byte)((7 << 5) | (distance >> 8));
            output[op++] = (byte)(length - 7);
        }
        output[op++] = (byte)distance;
        return true;
    }

    /// <summary>Decompresses into <paramref name="output"/>; returns the length written, or -1 for a malformed stream.</summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var ip = 0;
        var op = 0;
        while (ip < input.Length)
        {
            int control = input[ip++];
            if (control < MaxLiteral)
            {
                var run = control + 1;
                if (ip + run > input.Length || op + run > output.Length)
                {
                    return -1;
                }
                input.Slice(ip, run).CopyTo(output[op..]);
                ip += run;
                op += run;
                continue;
            }
            var length = control >> 5;
            if (length == 7)
            {
                if (ip >= input.Length)
                {
                    return -1;
                }
                length += input[ip++];
            }
            if (ip >= input.Length)
            {
                return -1;
            }
            var reference = op - ((control & 0x1f) << 8) - input[ip++] - 1;
            length += 2;
            if (reference < 0 || op + length > output.Length)
            {
                return -1;
            }
            // Byte by byte: the reference may overlap what is being written (a run).
            for (var i = 0; i < length; i++)
            {
                output[op++] = output[reference + i];
            }
        }
        return op;
    }
}
