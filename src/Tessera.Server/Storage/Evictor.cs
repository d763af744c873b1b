using System.Diagnostics;
using Tessera.Server.Config;

namespace Tessera.Server.Storage;

/// <summary>
/// maxmemory enforcement, Redis's performEvictions: before a command runs, while used memory exceeds maxmemory,
/// evict the best of a sampled pool of keys by the configured policy (approximated LRU, LFU, TTL, or random), for
/// at most a tenacity-scaled time slice. Returns false when memory could not be brought under the limit (noeviction,
/// or nothing evictable), which turns denyoom commands into -OOM.
/// </summary>
internal sealed class Evictor(ServerConfig config, Keyspace keyspace, Func<long> usedMemory)
{
    private const int PoolSize = 16;

    private readonly List<(double Score, int Db, byte[] Key)> _pool = new(PoolSize + 1);

    /// <summary>Keys evicted because of maxmemory.</summary>
    public Action<Database, byte[]>? KeyEvicted { get; set; }

    /// <summary>True when memory is within limits after evicting what the policy allows.</summary>
    public bool FreeMemoryIfNeeded()
    {
        var limit = config.MaxMemory.Value;
        if (limit == 0 || usedMemory() <= limit)
        {
            return true;
        }
        var policy = config.MaxMemoryPolicy.Value;
        if (policy == "noeviction")
        {
            return false;
        }
        var volatileOnly = policy.StartsWith("volatile-", StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        var tenacity = config.MaxMemoryEvictionTenacity.Value;
        // Redis's evictionTimeLimitUs: 50us per step up to 500us at tenacity 10, then 15% more per step, unlimited at 100.
        var budgetMicros = tenacity >= 100 ? double.MaxValue : tenacity <= 10 ? 50.0 * tenacity : 500.0 * Math.Pow(1.15, tenacity - 10);
        while (usedMemory() > limit)
        {
            if (!EvictOne(policy, volatileOnly))
            {
                return false;
            }
            if (clock.Elapsed.TotalMicroseconds > budgetMicros)
            {
                // Out of time but still evicting: let the command run; the next one (or the cron) continues.
                return true;
            }
        }
        return true;
    }

    private bool EvictOne(string policy, bool volatileOnly)
    {
        if (policy.EndsWith("-random", StringComparison.Ordinal))
        {
            return EvictRandom(volatileOnly);
        }
        _pool.Clear();
        var samples = (int)config.MaxMemorySamples.Value;
        foreach (var db in keyspace.Databases)
        {
            for (var s = 0; s < samples; s++)
            {
                var found = volatileOnly ? db.TryGetRandomVolatile(keyspace.Random, out var key) : db.TryGetRandom(keyspace.Random, out key);
                if (!found)
                {
                    break;
                }
                var score = Score(policy, key);
                if (_pool.Count < PoolSize || score > _pool[^1].Score)
                {
                    AddCandidate(score, db.Index, key.Key.ToArray());
                }
            }
        }
        foreach (var (_, dbIndex, name) in _pool)
        {
            var db = keyspace.Databases[dbIndex];
            if (db.TryFindRaw(name, out var key))
            {
                Evict(db, key);
                return true;
            }
        }
        return false;
    }

    private bool EvictRandom(bool volatileOnly)
    {
        foreach (var db in keyspace.Databases)
        {
            var found = volatileOnly ? db.TryGetRandomVolatile(keyspace.Random, out var key) : db.TryGetRandom(keyspace.Random, out key);
            if (found)
            {
                Evict(db, key);
                return true;
            }
        }
        return false;
    }

    /// <summary>Higher is a better eviction candidate: idle time, rarity of use, or nearness of expiry.</summary>
    private double Score(string policy, KeyRef key)
    {
        var meta = key.Entry.Extra;
        if (policy.EndsWith("-lfu", StringComparison.Ordinal))
        {
            return 255 - KeyMeta.LfuDecayed(meta, keyspace.Now, config.LfuDecayTime.Value);
        }
        if (policy == "volatile-ttl")
        {
            return -(double)key.Expire;
        }
        return KeyMeta.IdleMilliseconds(meta, KeyMeta.LruClock(keyspace.Now));
    }

    private void AddCandidate(double score, int db, byte[] key)
    {
        var i = _pool.FindIndex(c => c.Score < score);
        _pool.Insert(i < 0 ? _pool.Count : i, (score, db, key));
        if (_pool.Count > PoolSize)
        {
            _pool.RemoveAt(_pool.Count - 1);
        }
    }

    private void Evict(Database db, KeyRef key)
    {
        var name = KeyEvicted is null ? [] : key.Key.ToArray();
        db.Remove(key, recycle: true);
        keyspace.EvictedKeys++;
        KeyEvicted?.Invoke(db, name);
    }
}
