using Tessera.Core.Hashing;

namespace Tessera.Server.Storage;

/// <summary>The active expire cycle's walk over one database's keys with a TTL.</summary>
internal sealed partial class Database
{
    private int _expireSlot;
    private readonly List<byte[]> _expiredBatch = [];

    /// <summary>
    /// Milliseconds to live of keys with a TTL, estimated from the keys the cycle sampled (INFO keyspace avg_ttl):
    /// Redis's running average, each step's mean weighing 2%.
    /// </summary>
    public long AverageTtl { get; private set; }

    /// <summary>As Redis's cycle does for a database with no key to expire: no estimate.</summary>
    public void ForgetAverageTtl() => AverageTtl = 0;

    /// <summary>
    /// Checks keys with a TTL from where the last call stopped, deleting expired ones, until about
    /// <paramref name="budget"/> keys were sampled. Returns (sampled, expired) so the cycle can adapt like Redis's:
    /// keep going while many sampled keys were expired.
    /// </summary>
    public (long Sampled, long Expired) ExpireStep(long budget)
    {
        long sampled = 0;
        long expired = 0;
        long ttlSum = 0;
        long ttlSamples = 0;
        var now = Keyspace.Now;
        for (var visitedSlots = 0; visitedSlots < HashSlot.Count && sampled < budget && _volatile.Count > 0; visitedSlots++)
        {
            var slot = _expireSlot;
            _expireSlot = (_expireSlot + 1) & (HashSlot.Count - 1);
            if (!_volatile.Contains(slot))
            {
                continue;
            }
            var table = _tables![slot]!;
            for (var i = 0; i < table.Capacity; i++)
            {
                var expire = table.ExpireAt(i);
                if (expire == 0)
                {
                    continue;
                }
                sampled++;
                if (expire < now)
                {
                    _expiredBatch.Add(KeyTable.KeyOf(table[i].Item!).ToArray());
                }
                else if (expire > now)
                {
                    ttlSum += expire - now;
                    ttlSamples++;
                }
            }
            // Deleting may shrink the table, so expired keys are collected first and removed after the walk.
            foreach (var key in _expiredBatch)
            {
                if (TryFindRaw(key, out var found) && Keyspace.ExpireIfNeeded(this, found))
                {
                    expired++;
                }
            }
            _expiredBatch.Clear();
        }
        if (ttlSamples > 0)
        {
            var average = ttlSum / ttlSamples;
            AverageTtl = (AverageTtl == 0 ? average : AverageTtl) / 50 * 49 + (average / 50);
        }
        return (sampled, expired);
    }
}
