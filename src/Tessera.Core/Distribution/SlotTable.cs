using Tessera.Core.Hashing;

namespace Tessera.Core.Distribution;

/// <summary>
/// Codis-style slot partitioning: a key's slot is crc32 (IEEE) of its hashed part mod the slot count (1024 in Codis),
/// or Redis Cluster's CRC16 for 16384 slots; slots are dealt to the servers in equal contiguous runs, in the order
/// the servers are written.
/// </summary>
public sealed class SlotTable
{
    private readonly int[] _owners;

    /// <param name="slots">Number of slots (1 to 16384).</param>
    /// <param name="servers">Pool indexes of the servers, in the order the configuration writes them.</param>
    public SlotTable(int slots, IReadOnlyList<int> servers)
    {
        _owners = new int[slots];
        for (var slot = 0; slot < slots; slot++)
        {
            _owners[slot] = servers[(int)((long)slot * servers.Count / slots)];
        }
    }

    public int Count => _owners.Length;

    /// <summary>The slot of <paramref name="hashedPart"/> (the key, or its hash tag's content).</summary>
    public int SlotOf(ReadOnlySpan<byte> hashedPart) => _owners.Length == HashSlot.Count
        ? Crc16.Compute(hashedPart) & (HashSlot.Count - 1)
        : (int)(NutcrackerHash.Crc32(hashedPart) % (uint)_owners.Length);

    /// <summary>The server index that owns <paramref name="hashedPart"/>'s slot.</summary>
    public int Locate(ReadOnlySpan<byte> hashedPart) => _owners[SlotOf(hashedPart)];
}
