using System.Runtime.CompilerServices;

using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage;

/// <summary>
/// Where a key lives: its slot table and index. Valid until the next insertion into or removal from that table
/// (both may move entries), so commands look a key up again after changing the keyspace.
/// </summary>
internal readonly struct KeyRef(KeyTable table, int index, int slot)
{
    public KeyTable Table { get; } = table;

    public int Index { get; } = index;

    /// <summary>The key's hash slot.</summary>
    public int Slot { get; } = slot;

    /// <summary>The entry itself.</summary>
    public ref OpenTable<object, StoredItemKey>.Entry Entry
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Table[Index];
    }

    /// <summary>The stored item: a packed string (byte[]) or a <see cref="StoredValue"/>.</summary>
    public object Item => Table[Index].Item!;

    /// <summary>The key bytes.</summary>
    public ReadOnlySpan<byte> Key => KeyTable.KeyOf(Table[Index].Item!);

    /// <summary>Absolute expiry in Unix ms, or 0.</summary>
    public long Expire => Table.ExpireAt(Index);
}
