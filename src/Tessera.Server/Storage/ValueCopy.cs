namespace Tessera.Server.Storage;

/// <summary>Copies of stored items under another key (COPY, RENAME), keeping representation and encoding.</summary>
internal static class ValueCopy
{
    /// <summary>A deep copy of <paramref name="item"/> stored under <paramref name="key"/>.</summary>
    public static object Of(object item, ReadOnlySpan<byte> key)
        => item is byte[] packed ? PackedString.Create(key, PackedString.Value(packed)) : ((StoredValue)item).CopyAs(key);

    /// <summary><paramref name="item"/> moved to <paramref name="key"/>: values change their key, packed strings are rebuilt.</summary>
    public static object Rekey(object item, ReadOnlySpan<byte> key)
    {
        if (item is StoredValue value)
        {
            value.SetKey(key);
            return value;
        }
        return PackedString.Create(key, PackedString.Value((byte[])item));
    }
}
