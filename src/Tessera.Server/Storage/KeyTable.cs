using System.Runtime.CompilerServices;
using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage;

/// <summary>Reads the key of a keyspace item: a packed string's key, or a <see cref="StoredValue"/>'s.</summary>
internal readonly struct StoredItemKey : IKeySelector<object>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> KeyOf(object item) => item is byte[] packed ? PackedString.Key(packed) : ((StoredValue)item).Key;
}

/// <summary>
/// The keys of one hash slot of one database. Each 16-byte entry holds the item (a packed key+string, or a
/// <see cref="StoredValue"/> that knows its key), the key's hash, and in its spare bits the LRU/LFU clock and
/// string encoding (see <see cref="KeyMeta"/>); expiry times live in the side array, created only when the table
/// holds a key with a TTL. A database is 16384 of these, so growth rehashes one slot's keys at a time and a slot's
/// keys can be counted, listed and migrated directly.
/// </summary>
internal sealed class KeyTable : OpenTable<object, StoredItemKey>
{
    /// <summary>The key stored in an item.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> KeyOf(object item) => StoredItemKey.KeyOf(item);

    /// <summary>Number of keys with an expiry.</summary>
    public int VolatileCount => SideCount;

    /// <summary>Absolute expiry (Unix ms) of the entry at <paramref name="index"/>, 0 when it has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ExpireAt(int index) => SideAt(index);

    /// <summary>Sets or clears (0) the expiry of the entry at <paramref name="index"/>.</summary>
    public void SetExpire(int index, long unixMs) => SetSide(index, unixMs);
}
