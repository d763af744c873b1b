using System.Runtime.CompilerServices;
using Tessera.Resp;

namespace Tessera.Server.Storage;

/// <summary>Reading string values whatever their representation, and Redis's choice of encoding for new ones.</summary>
internal static class StringValue
{
    /// <summary>Longest string Redis stores as "embstr" (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).</summary>
    public const int EmbstrLimit = 44;

    /// <summary>The bytes of a string value; false when <paramref name="value"/> is another type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryGetBytes(object value, out ReadOnlySpan<byte> bytes)
    {
        if (value is byte[] packed)
        {
            bytes = PackedString.Value(packed);
            return true;
        }
        if (value is MutableString mutable)
        {
            bytes = mutable.Span;
            return true;
        }
        bytes = default;
        return false;
    }

    /// <summary>True for string values.</summary>
    public static bool IsString(object value) => value is byte[] or MutableString;

    /// <summary>
    /// The encoding Redis's tryObjectEncoding picks: "int" for canonical integers of at most 20 characters,
    /// "embstr" up to 44 bytes, else "raw".
    /// </summary>
    public static StringEncoding EncodingFor(ReadOnlySpan<byte> value)
    {
        if (value.Length <= RedisInteger.MaxLength && RedisInteger.TryParse(value, out _))
        {
            return StringEncoding.Int;
        }
        return value.Length <= EmbstrLimit ? StringEncoding.Embstr : StringEncoding.Raw;
    }

    /// <summary>The encoding of a string made by createStringObject (no integer check): embstr or raw by length.</summary>
    public static StringEncoding EncodingForLength(int length) => length <= EmbstrLimit ? StringEncoding.Embstr : StringEncoding.Raw;
}
