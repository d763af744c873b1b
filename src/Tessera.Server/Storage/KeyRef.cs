using System.Runtime.CompilerServices;

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
    public ref KeyTable.Entry Entry
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Table[Index];
    }

    public byte[] Key => Table[Index].Key!;

    public object Value => Table[Index].Value!;
}
