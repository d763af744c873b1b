using Tessera.Core.Distribution;
using Tessera.Proxy.Config;

namespace Tessera.Proxy.Pools;

/// <summary>
/// A pool at run time, shared by all proxy threads: its configuration, its backends, where keys go (rebuilt when a
/// backend is ejected or readmitted, swapped in whole so readers never lock), and its counters.
/// </summary>
public sealed class ServerPool
{
    private readonly Lock _health = new();
    private volatile KeyPlacement _placement;
    private long _nextReadmitMs;
    private volatile Backend[] _backends;
    private readonly SlotTable? _slots;
    private readonly RangeTable? _ranges;

    public ServerPool(PoolConfig config, int index)
    {
        Config = config;
        Index = index;
        var servers = config.ClusterSeeds.Count > 0
            ? config.ClusterSeeds.Select(seed => SeedServer(seed.Host, seed.Port)).ToList()
            : config.Servers;
        _backends = [.. servers.Select((server, i) => new Backend(server, i))];
        var written = _backends.OrderBy(b => b.Config.Order).Select(b => b.Index).ToList();
        _slots = config.Distribution == DistributionKind.Slots ? new SlotTable(config.Slots, written) : null;
        _ranges = config.Distribution == DistributionKind.Range
            ? new RangeTable(config.KeyRanges.Select((range, i) => (range.Low, range.High, written[i])))
            : null;
        _placement = BuildPlacement(0);
        Cluster = config.ClusterSeeds.Count > 0 ? new ClusterSlotMap(this) : null;
    }

    public PoolConfig Config { get; }

    /// <summary>Position in the configuration (connections of each thread are kept per pool index).</summary>
    public int Index { get; }

    public string Name => Config.Name;

    /// <summary>The backends: the configured servers, or a cluster's masters as they are discovered (indexes never change).</summary>
    public IReadOnlyList<Backend> Backends => _backends;

    /// <summary>The slot table of a fronted cluster, or null for a nutcracker pool.</summary>
    public ClusterSlotMap? Cluster { get; }

    public PoolStats Stats { get; } = new();

    /// <summary>Connected clients now (client_connections is enforced against it).</summary>
    public int ClientCount;

    /// <summary>The placement now (readmits backends whose retry time has come, as nutcracker does before dispatching).</summary>
    public KeyPlacement Placement
    {
        get
        {
            var due = Volatile.Read(ref _nextReadmitMs);
            if (due != 0 && Environment.TickCount64 >= due)
            {
                Readmit();
            }
            return _placement;
        }
    }

    /// <summary>The backend for <paramref name="key"/>, or -1 when none can take it (all ejected, slot unserved).</summary>
    public int Locate(ReadOnlySpan<byte> key) => Cluster is { } cluster ? cluster.Locate(key) : Placement.Locate(key);

    /// <summary>The backends a command for every server goes to: the live ones, or the cluster's masters.</summary>
    public IReadOnlyList<int> LiveServers => Cluster is { } cluster ? cluster.Masters : Placement.LiveServers;

    /// <summary>The index of the backend at <paramref name="host"/>:<paramref name="port"/>, added when new (cluster pools).</summary>
    public int BackendAt(string host, int port)
    {
        int Find(Backend[] backends) => Array.FindIndex(backends, b => b.Config.Port == port && b.Config.Host == host);

        // Looked up without the lock (the common case: a known node), again under it before adding.
        var found = Find(_backends);
        if (found >= 0)
        {
            return found;
        }
        lock (_health)
        {
            var backends = _backends;
            found = Find(backends);
            if (found >= 0)
            {
                return found;
            }
            _backends = [.. backends, new Backend(SeedServer(host, port), backends.Length)];
            return backends.Length;
        }
    }

    private static ServerConfig SeedServer(string host, int port) => new(host, port, 1, $"{host}:{port}", null);

    /// <summary>Counts a failure (connection lost, refused or timed out); ejects the backend at the failure limit.</summary>
    public void RecordFailure(Backend backend)
    {
        // A cluster heals itself (failover); the proxy re-reads who serves what instead of ejecting.
        Cluster?.RequestRefresh();
        if (!Config.AutoEjectHosts || Cluster is not null)
        {
            return;
        }
        lock (_health)
        {
            if (backend.RetryAtMs != 0 || ++backend.FailureCount < Config.ServerFailureLimit)
            {
                return;
            }
            var now = Environment.TickCount64;
            backend.FailureCount = 0;
            backend.RetryAtMs = now + Math.Max(1, Config.ServerRetryTimeoutMs);
            backend.EjectedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            Interlocked.Increment(ref Stats.ServerEjects);
            _placement = BuildPlacement(now);
            ProxyLog.Warning($"pool '{Name}': server {backend.Config.Address} ejected after {Config.ServerFailureLimit} failures, retry in {Config.ServerRetryTimeoutMs} ms");
        }
    }

    /// <summary>A good reply: the failure count starts again.</summary>
    public static void RecordSuccess(Backend backend)
    {
        if (backend.FailureCount != 0)
        {
            backend.FailureCount = 0;
        }
    }

    private void Readmit()
    {
        lock (_health)
        {
            var now = Environment.TickCount64;
            if (_nextReadmitMs == 0 || now < _nextReadmitMs)
            {
                return;
            }
            foreach (var backend in Backends)
            {
                if (backend.RetryAtMs != 0 && backend.RetryAtMs <= now)
                {
                    backend.RetryAtMs = 0;
                    ProxyLog.Notice($"pool '{Name}': server {backend.Config.Address} readmitted");
                }
            }
            _placement = BuildPlacement(now);
        }
    }

    /// <summary>Placement over the backends not ejected at <paramref name="now"/>; sets the next readmission time.</summary>
    private KeyPlacement BuildPlacement(long now)
    {
        var live = new List<WeightedServer>();
        long next = 0;
        foreach (var backend in Backends)
        {
            if (backend.RetryAtMs == 0 || backend.RetryAtMs <= now)
            {
                live.Add(new WeightedServer(backend.Index, backend.Config.Name, backend.Config.Weight));
            }
            else if (next == 0 || backend.RetryAtMs < next)
            {
                next = backend.RetryAtMs;
            }
        }
        Volatile.Write(ref _nextReadmitMs, next);
        return new KeyPlacement(Config.Hash, Config.HashTag, Config.Distribution, Backends.Count, live, _slots, _ranges);
    }
}
