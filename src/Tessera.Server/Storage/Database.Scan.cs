using Tessera.Core.Hashing;
using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage;

/// <summary>SCAN over a database: slot by slot, and within a slot's table bucket by bucket in reverse-binary order.</summary>
internal sealed partial class Database
{
    private const int SlotBits = 14;

    /// <summary>
    /// Adds keys to <paramref name="keys"/> starting at <paramref name="cursor"/>; returns the next cursor, 0 at
    /// the end. The cursor packs the slot (low 14 bits) and the bucket cursor of that slot's table. Buckets are
    /// visited in reverse-binary order, Redis's dictScan scheme, so a key present for the whole iteration is
    /// returned at least once even if tables grow or shrink between calls. Stops after about
    /// <paramref name="count"/> keys or 10 x count buckets.
    /// </summary>
    public ulong Scan(ulong cursor, long count, List<byte[]> keys)
    {
        var slot = (int)(cursor & (HashSlot.Count - 1));
        var bucket = (uint)(cursor >> SlotBits);
        var maxBuckets = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        var visited = 0L;
        while (true)
        {
            var table = _tables?[slot];
            if (table is not null && table.Count > 0)
            {
                var mask = (uint)table.Capacity - 1;
                table.VisitBucket((int)(bucket & mask), ref keys, static (t, i, ref k) => k.Add(KeyTable.KeyOf(t[i].Item!).ToArray()));
                visited++;
                bucket = ScanCursor.Next(bucket, mask);
            }
            else
            {
                bucket = 0;
            }
            if (bucket == 0)
            {
                slot = NextOccupiedSlot(slot + 1);
                if (slot == HashSlot.Count)
                {
                    return 0;
                }
            }
            if (keys.Count >= count || visited >= maxBuckets)
            {
                return ((ulong)bucket << SlotBits) | (uint)slot;
            }
        }
    }

    private int NextOccupiedSlot(int slot)
    {
        while (slot < HashSlot.Count && !_occupied.Contains(slot))
        {
            slot++;
        }
        return slot;
    }
}
