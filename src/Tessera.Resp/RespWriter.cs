using System.Runtime.CompilerServices;

namespace Tessera.Resp;

/// <summary>
/// Writes replies in RESP2 or RESP3 (<see cref="Protocol"/>), choosing per reply the encoding Redis uses for that
/// version: maps are flat arrays in RESP2, nulls are <c>$-1</c>/<c>*-1</c> in RESP2 and <c>_</c> in RESP3, doubles are
/// bulk strings in RESP2. Integers are formatted straight into the output; nothing allocates.
/// </summary>
public sealed class RespWriter : OutputBuffer
{
    /// <summary>2 or 3, as chosen by HELLO.</summary>
    public int Protocol { get; set; } = 2;

    /// <summary>Writes pre-encoded reply bytes, e.g. a <c>u8</c> literal such as "+OK\r\n".</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteLiteral(ReadOnlySpan<byte> encoded)
    {
        var span = GetSpan(encoded.Length);
        if (span.Length >= encoded.Length)
        {
            encoded.CopyTo(span);
            Advance(encoded.Length);
            return;
        }
        WriteRaw(encoded);
    }

    /// <summary>+text (must not contain CR or LF).</summary>
    public void WriteSimpleString(ReadOnlySpan<byte> text) => WriteLine((byte)'+', text);

    /// <summary>-text; <paramref name="message"/> starts with its code ("ERR ...", "WRONGTYPE ..."). CR/LF become spaces.</summary>
    public void WriteError(ReadOnlySpan<byte> message)
    {
        var span = GetSpan(message.Length + 3);
        span[0] = (byte)'-';
        message.CopyTo(span[1..]);
        foreach (ref var c in span.Slice(1, message.Length))
        {
            if (c is (byte)'\r' or (byte)'\n')
            {
                c = (byte)' ';
            }
        }
        span[message.Length + 1] = (byte)'\r';
        span[message.Length + 2] = (byte)'\n';
        Advance(message.Length + 3);
    }

    /// <summary>
    /// -text from a string built at run time. Encoded as Latin-1, so client bytes quoted into the text (decoded as
    /// Latin-1 by the caller) come back out unchanged.
    /// </summary>
    public void WriteError(string message)
    {
        Span<byte> small = stackalloc byte[256];
        var bytes = message.Length <= 256 ? small[..message.Length] : new byte[message.Length];
        System.Text.Encoding.Latin1.GetBytes(message, bytes);
        WriteError(bytes);
    }

    /// <summary>:value</summary>
    public void WriteInteger(long value) => WritePrefixed((byte)':', value);

    /// <summary>$length then the bytes.</summary>
    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        var header = RedisInteger.DigitCount(value.Length) + 3;
        var total = header + value.Length + 2;
        if (total <= ChunkSize)
        {
            var span = GetSpan(total);
            var w = WriteHeader(span, (byte)'$', value.Length);
            value.CopyTo(span[w..]);
            w += value.Length;
            span[w] = (byte)'\r';
            span[w + 1] = (byte)'\n';
            Advance(total);
            return;
        }
        WritePrefixed((byte)'$', value.Length);
        WriteRaw(value);
        WriteLiteral("\r\n"u8);
    }

    /// <summary>A bulk string holding the decimal text of <paramref name="value"/>.</summary>
    public void WriteBulk(long value)
    {
        Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
        WriteBulk(text[..RedisInteger.Format(value, text)]);
    }

    /// <summary>A bulk string from UTF-16 text (for replies assembled from strings: INFO, CONFIG GET ...).</summary>
    public void WriteBulk(string value)
    {
        var byteCount = System.Text.Encoding.UTF8.GetByteCount(value);
        Span<byte> small = stackalloc byte[256];
        var bytes = byteCount <= 256 ? small[..byteCount] : new byte[byteCount];
        System.Text.Encoding.UTF8.GetBytes(value, bytes);
        WriteBulk(bytes);
    }

    /// <summary>The null bulk string: <c>$-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void WriteNullBulk() => WriteLiteral(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>The null array: <c>*-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void WriteNullArray() => WriteLiteral(Protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>*count</summary>
    public void WriteArrayHeader(long count) => WritePrefixed((byte)'*', count);

    /// <summary>%count in RESP3; a flat array of 2*count elements in RESP2.</summary>
    public void WriteMapHeader(long count)
    {
        if (Protocol == 3)
        {
            WritePrefixed((byte)'%', count);
        }
        else
        {
            WritePrefixed((byte)'*', count * 2);
        }
    }

    /// <summary>~count in RESP3; an array in RESP2.</summary>
    public void WriteSetHeader(long count) => WritePrefixed(Protocol == 3 ? (byte)'~' : (byte)'*', count);

    /// <summary>&gt;count in RESP3 (out-of-band push); an array in RESP2.</summary>
    public void WritePushHeader(long count) => WritePrefixed(Protocol == 3 ? (byte)'>' : (byte)'*', count);

    /// <summary>A double: ,value in RESP3, a bulk string in RESP2, formatted like %.17g.</summary>
    public void WriteDouble(double value)
    {
        Span<byte> text = stackalloc byte[RedisDouble.MaxLength];
        var n = RedisDouble.Format(value, text);
        if (Protocol == 3)
        {
            WriteLine((byte)',', text[..n]);
        }
        else
        {
            WriteBulk(text[..n]);
        }
    }

    /// <summary>A double the caller formatted (GEOPOS's "%.17Lf" text): ,text in RESP3, a bulk string in RESP2.</summary>
    public void WriteDouble(ReadOnlySpan<byte> text)
    {
        if (Protocol == 3)
        {
            WriteLine((byte)',', text);
        }
        else
        {
            WriteBulk(text);
        }
    }

    /// <summary>#t/#f in RESP3; :1/:0 in RESP2.</summary>
    public void WriteBoolean(bool value)
        => WriteLiteral(Protocol == 3 ? (value ? "#t\r\n"u8 : "#f\r\n"u8) : (value ? ":1\r\n"u8 : ":0\r\n"u8));

    /// <summary>A verbatim string (=length\r\ntxt:...) in RESP3; a bulk string in RESP2.</summary>
    public void WriteVerbatim(ReadOnlySpan<byte> text) => WriteVerbatim(text, "txt"u8);

    /// <summary>
    /// A verbatim string of <paramref name="format"/> in RESP3 (its first three bytes, padded with spaces and cut
    /// at a NUL, as Redis's addReplyVerbatim); a bulk string in RESP2.
    /// </summary>
    public void WriteVerbatim(ReadOnlySpan<byte> text, ReadOnlySpan<byte> format)
    {
        if (Protocol != 3)
        {
            WriteBulk(text);
            return;
        }
        WritePrefixed((byte)'=', text.Length + 4);
        var span = GetSpan(4);
        var end = format.IndexOf((byte)0);
        format = end < 0 ? format : format[..end];
        for (var i = 0; i < 3; i++)
        {
            span[i] = i < format.Length ? format[i] : (byte)' ';
        }
        span[3] = (byte)':';
        Advance(4);
        WriteRaw(text);
        WriteLiteral("\r\n"u8);
    }

    private void WriteLine(byte prefix, ReadOnlySpan<byte> text)
    {
        var span = GetSpan(text.Length + 3);
        span[0] = prefix;
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        Advance(text.Length + 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WritePrefixed(byte prefix, long value)
    {
        var span = GetSpan(RedisInteger.MaxLength + 3);
        Advance(WriteHeader(span, prefix, value));
    }

    private static int WriteHeader(Span<byte> span, byte prefix, long value)
    {
        span[0] = prefix;
        var n = RedisInteger.Format(value, span[1..]) + 1;
        span[n] = (byte)'\r';
        span[n + 1] = (byte)'\n';
        return n + 2;
    }
}
