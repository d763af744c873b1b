using System.Diagnostics;
using Tessera.Server.Config;

using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage;

/// <summary>Something that happened to <paramref name="key"/> in <paramref name="db"/> (keyspace notification hooks).</summary>
internal delegate void KeyEvent(Database db, ReadOnlySpan<byte> key);

/// <summary>
/// All databases of the node and what they share: the command's time snapshot (all expiry decisions of one
/// command use one "now", as Redis's commandTimeSnapshot), the LRU/LFU clock, keyspace statistics and the active
/// expire cycle. Guarded by the server's execution lock.
/// </summary>
internal sealed class Keyspace
{

    private readonly ServerConfig _config;
    private int _expireDb;
    private long _clockBaseTimestamp;
    private long _clockBaseUnixTicks;

    public Keyspace(ServerConfig config)
    {
        _config = config;
        Databases = new Database[config.Databases.Value];
        for (var i = 0; i < Databases.Length; i++)
        {
            Databases[i] = new Database(this, i);
        }
        UpdateClock();
    }

    public Database[] Databases { get; }

    /// <summary>Unix milliseconds of the command being executed.</summary>
    public long Now { get; private set; }

    /// <summary>The point-in-time view a background save is writing, or null.</summary>
    public KeyspaceSnapshot? Snapshot { get; set; }

    /// <summary>Arrays of removed strings, reused for new ones.</summary>
    public PackedStringPool StringPool { get; } = new();

    /// <summary>Random source for sampling (RANDOMKEY, eviction); used under the lock.</summary>
    public Random Random { get; } = new();

    public long KeyspaceHits { get; set; }

    public long KeyspaceMisses { get; set; }

    public long ExpiredKeys { get; private set; }

    public long EvictedKeys { get; set; }

    /// <summary>False after DEBUG SET-ACTIVE-EXPIRE 0: only lazy expiry runs.</summary>
    public bool ActiveExpireEnabled { get; set; } = true;

    /// <summary>Running estimate of the share of sampled keys found expired (INFO expired_stale_perc).</summary>
    public double ExpiredStaleShare { get; private set; }

    /// <summary>Cycles that ran out of time with databases left to visit (INFO expired_time_cap_reached_count).</summary>
    public long ExpireTimeCapReached { get; private set; }

    /// <summary>Time spent in the active expire cycle (INFO expire_cycle_cpu_milliseconds).</summary>
    public TimeSpan ExpireCycleTime { get; private set; }

    /// <summary>True while the AOF is replayed: keys do not expire, so every command applies as it first did.</summary>
    public bool Loading { get; set; }

    /// <summary>True on a replica: keys are not expired locally, the master's DELs do it.</summary>
    public bool IsReplica { get; set; }

    /// <summary>
    /// True while clients are paused (CLIENT PAUSE, a failover): an expired key reads as missing but is not
    /// deleted, so nothing is propagated meanwhile (Redis's checkClientPauseTimeoutAndReturnIfPaused).
    /// </summary>
    public Func<bool> ExpiryPaused { get; set; } = () => false;

    /// <summary>Called when a key holding a value object (a collection, a mutable string) is created: clients blocked on it may be served.</summary>
    public Action<Database, StoredValue>? CollectionAdded { get; set; }

    /// <summary>Called after a key was deleted because it expired (notifications, propagation).</summary>
    public Action<Database, byte[]>? KeyExpired { get; set; }

    /// <summary>Called when a key is created (the "new" keyspace event).</summary>
    public KeyEvent? KeyAdded { get; set; }

    /// <summary>Called when a read finds no key (the "keymiss" keyspace event).</summary>
    public KeyEvent? KeyMissed { get; set; }

    /// <summary>Estimated bytes of all data.</summary>
    public long UsedMemory
    {
        get
        {
            long total = 0;
            foreach (var db in Databases)
            {
                total += db.UsedMemory;
            }
            return total;
        }
    }

    /// <summary>Number of keys in all databases.</summary>
    public long KeyCount => Databases.Sum(d => d.Count);

    /// <summary>True under an LFU maxmemory policy: accesses feed frequency counters instead of the LRU clock.</summary>
    public bool Lfu { get; set; }

    /// <summary>CONFIG RESETSTAT: clears hit, miss, expiry and eviction counters.</summary>
    public void ResetStats()
    {
        KeyspaceHits = 0;
        KeyspaceMisses = 0;
        ExpiredKeys = 0;
        EvictedKeys = 0;
        ExpiredStaleShare = 0;
        ExpireTimeCapReached = 0;
        ExpireCycleTime = TimeSpan.Zero;
    }

    /// <summary>Reads the wall clock and takes it as the time snapshot (the cron does this hz times a second).</summary>
    public void UpdateClock()
    {
        _clockBaseTimestamp = Stopwatch.GetTimestamp();
        _clockBaseUnixTicks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        Now = _clockBaseUnixTicks / TimeSpan.TicksPerMillisecond;
    }

    /// <summary>
    /// Takes the time snapshot for a command from a monotonic <paramref name="timestamp"/> it already read for its
    /// latency, offset from the last wall-clock reading: one clock read per command instead of two.
    /// </summary>
    /// <remarks>
    /// Kept in 100 ns ticks and cut to milliseconds once, so the time never lags the wall clock by the two
    /// roundings a sum of milliseconds would (a PXAT ten seconds ahead read back as PTTL 10001).
    /// </remarks>
    public void UpdateClock(long timestamp)
        => Now = (_clockBaseUnixTicks + (long)Stopwatch.GetElapsedTime(_clockBaseTimestamp, timestamp).Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>Access metadata for a new key: the LRU clock, or the LFU initial counter.</summary>
    public uint NewAccess() => Lfu ? (KeyMeta.LfuMinutes(Now) << 8) | KeyMeta.LfuInitialCounter : KeyMeta.LruClock(Now);

    /// <summary>Records an access: refreshes the LRU clock or bumps the LFU counter.</summary>
    public void Touch(ref OpenTable<object, StoredItemKey>.Entry entry)
    {
        if (Lfu)
        {
            var counter = KeyMeta.LfuDecayed(entry.Extra, Now, _config.LfuDecayTime.Value);
            counter = KeyMeta.LfuIncrement(counter, _config.LfuLogFactor.Value, Random);
            entry.Extra = KeyMeta.WithAccess(entry.Extra, (KeyMeta.LfuMinutes(Now) << 8) | counter);
        }
        else
        {
            entry.Extra = KeyMeta.WithAccess(entry.Extra, KeyMeta.LruClock(Now));
        }
    }

    /// <summary>
    /// Deletes <paramref name="key"/> if its TTL has passed; true when it is logically gone. A replica keeps the
    /// key (its master will send the DEL) but still reports it missing.
    /// </summary>
    public bool ExpireIfNeeded(Database db, KeyRef key)
    {
        var expire = key.Expire;
        if (expire == 0 || expire >= Now || Loading)
        {
            return false;
        }
        if (IsReplica || ExpiryPaused())
        {
            return true;
        }
        var name = KeyExpired is null ? [] : key.Key.ToArray();
        db.Remove(key, recycle: true);
        ExpiredKeys++;
        KeyExpired?.Invoke(db, name);
        return true;
    }

    /// <summary>
    /// One run of the active expire cycle (Redis's activeExpireCycle): visits databases in turn, sampling keys
    /// with a TTL and deleting expired ones, repeating on a database while more than the acceptable share of
    /// sampled keys was expired, until <paramref name="budget"/> runs out. Returns how long it ran.
    /// </summary>
    public TimeSpan ActiveExpireCycle(TimeSpan budget)
    {
        if (IsReplica || !ActiveExpireEnabled || Loading)
        {
            return TimeSpan.Zero;
        }
        var effort = _config.ActiveExpireEffort.Value - 1;
        var keysPerLoop = 20 + (20 / 4 * effort);
        var acceptableStale = 10 - effort;
        var clock = Stopwatch.StartNew();
        long totalSampled = 0;
        long totalExpired = 0;
        for (var n = 0; n < Databases.Length; n++)
        {
            if (clock.Elapsed >= budget)
            {
                ExpireTimeCapReached++;
                break;
            }
            var db = Databases[_expireDb];
            _expireDb = (_expireDb + 1) % Databases.Length;
            if (db.VolatileCount == 0)
            {
                db.ForgetAverageTtl();
                continue;
            }
            while (db.VolatileCount > 0 && clock.Elapsed < budget)
            {
                UpdateClock(Stopwatch.GetTimestamp());
                var (sampled, expired) = db.ExpireStep(keysPerLoop);
                totalSampled += sampled;
                totalExpired += expired;
                if (sampled == 0 || expired * 100 / sampled <= acceptableStale)
                {
                    break;
                }
            }
        }
        var current = totalSampled == 0 ? 0 : (double)totalExpired / totalSampled;
        ExpiredStaleShare = (current * 0.05) + (ExpiredStaleShare * 0.95);
        ExpireCycleTime += clock.Elapsed;
        return clock.Elapsed;
    }
}
