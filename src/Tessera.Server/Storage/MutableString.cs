namespace Tessera.Server.Storage;

/// <summary>
/// A string value changed in place (APPEND, SETRANGE, SETBIT, BITFIELD): spare capacity grows like Redis's sds
/// (double below 1 MB, then 1 MB at a time), so repeated appends are not quadratic. OBJECT ENCODING shows "raw".
/// Plain SET values stay exact-size byte arrays.
/// </summary>
internal sealed class MutableString(byte[] buffer, int length) : KeyedValue
{
    private const int GreedyLimit = 1024 * 1024;

    public byte[] Buffer { get; private set; } = buffer;

    public int Length { get; private set; } = length;

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public override long MemoryBytes => MemorySize.ObjectHeader + 16 + MemorySize.ArrayOf(Buffer.Length) + KeyBytes;

    public override string TypeName => "string";

    public override string EncodingName => "raw";

    public override StoredValue CopyAs(ReadOnlySpan<byte> key)
    {
        var copy = From(Span);
        copy.SetKey(key);
        return copy;
    }

    /// <summary>A mutable copy of <paramref name="value"/>, with room for <paramref name="extra"/> more bytes.</summary>
    public static MutableString From(ReadOnlySpan<byte> value, int extra = 0)
    {
        var buffer = new byte[Grow(value.Length + extra)];
        value.CopyTo(buffer);
        return new MutableString(buffer, value.Length);
    }

    /// <summary>A zero-filled string of exactly <paramref name="length"/> bytes (SETRANGE/SETBIT on a new key).</summary>
    public static MutableString Zeroed(int length) => new(new byte[length], length);

    /// <summary>Makes the string at least <paramref name="length"/> bytes, zero-filling new bytes.</summary>
    public void EnsureLength(int length)
    {
        if (length <= Length)
        {
            return;
        }
        if (length > Buffer.Length)
        {
            var larger = new byte[Grow(length)];
            Buffer.AsSpan(0, Length).CopyTo(larger);
            Buffer = larger;
        }
        else
        {
            Buffer.AsSpan(Length, length - Length).Clear();
        }
        Length = length;
    }

    /// <summary>Takes <paramref name="bytes"/> as the whole string (exact size, no spare room).</summary>
    public void ReplaceWith(byte[] bytes)
    {
        Buffer = bytes;
        Length = bytes.Length;
    }

    /// <summary>Shortens the string to <paramref name="length"/> bytes (at most its length).</summary>
    public void Truncate(int length) => Length = Math.Min(Length, length);

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        var start = Length;
        EnsureLength(Length + bytes.Length);
        bytes.CopyTo(Buffer.AsSpan(start));
    }

    /// <summary>The writable bytes of the string.</summary>
    public Span<byte> Writable => Buffer.AsSpan(0, Length);

    private static int Grow(int length)
        => (int)Math.Min(Array.MaxLength, length < GreedyLimit ? Math.Max(16, (long)length * 2) : (long)length + GreedyLimit);
}
