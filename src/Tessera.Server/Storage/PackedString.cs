using System.Runtime.CompilerServices;

namespace Tessera.Server.Storage;

/// <summary>
/// A plain string value and its key in one array: <c>[key length as LEB128][key][value]</c>. One object per key
/// instead of two saves a header and a length word, which is most of what separates a managed key-value store
/// from Redis's bytes per key. SET of a same-length value rewrites the value bytes in place.
/// </summary>
internal static class PackedString
{
    /// <summary>A new array holding <paramref name="key"/> and <paramref name="value"/>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Create(key, value, null);

    /// <summary>An array holding <paramref name="key"/> and <paramref name="value"/>, recycled from <paramref name="pool"/> when it has one.</summary>
    public static byte[] Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, PackedStringPool? pool)
    {
        var prefix = PrefixLength(key.Length);
        var length = prefix + key.Length + value.Length;
        var packed = pool?.Rent(length) ?? new byte[length];
        WritePrefix(packed, key.Length);
        key.CopyTo(packed.AsSpan(prefix));
        value.CopyTo(packed.AsSpan(prefix + key.Length));
        return packed;
    }

    /// <summary>The key bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Key(byte[] packed)
    {
        var length = ReadPrefix(packed, out var prefix);
        return packed.AsSpan(prefix, length);
    }

    /// <summary>The value bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Value(byte[] packed)
    {
        var length = ReadPrefix(packed, out var prefix);
        return packed.AsSpan(prefix + length);
    }

    /// <summary>The value bytes, writable (same-length overwrite, INCR in place).</summary>
    public static Span<byte> WritableValue(byte[] packed)
    {
        var length = ReadPrefix(packed, out var prefix);
        return packed.AsSpan(prefix + length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadPrefix(byte[] packed, out int prefix)
    {
        int first = packed[0];
        if (first < 0x80)
        {
            prefix = 1;
            return first;
        }
        var length = first & 0x7F;
        var shift = 7;
        prefix = 1;
        int b;
        do
        {
            b = packed[prefix++];
            length |= (b & 0x7F) << shift;
            shift += 7;
        }
        while (b >= 0x80);
        return length;
    }

    private static int PrefixLength(int length)
    {
        var n = 1;
        while (length >= 0x80)
        {
            length >>= 7;
            n++;
        }
        return n;
    }

    private static void WritePrefix(byte[] packed, int length)
    {
        var i = 0;
        while (length >= 0x80)
        {
            packed[i++] = (byte)(length | 0x80);
            length >>= 7;
        }
        packed[i] = (byte)length;
    }
}
