using System.Net;
using Tessera.Core.Networking;
using Tessera.Proxy.Config;
using Tessera.Proxy.Networking;
using Tessera.Proxy.Pools;

namespace Tessera.Proxy;

/// <summary>
/// The proxy process: the pools of a nutcracker configuration served by one event loop per core. Reload swaps in
/// a new configuration without dropping clients: pools keep their listeners when their listen address stays, and
/// every connected client moves to the new pool of the same name.
/// </summary>
public sealed class ProxyServer : IDisposable
{
    private readonly string _configPath;
    private readonly ProxyLoop[] _loops;
    private readonly Dictionary<string, Listener> _listeners = [];
    private readonly Lock _reloadGate = new();
    private volatile IReadOnlyList<ServerPool> _pools = [];

    /// <summary>Connections accepted since start, all pools (nutcracker's total_connections).</summary>
    public long TotalConnections;

    public ProxyServer(string configPath, int threads = 0)
    {
        _configPath = configPath;
        _loops = new ProxyLoop[threads > 0 ? threads : Environment.ProcessorCount];
        for (var i = 0; i < _loops.Length; i++)
        {
            _loops[i] = new ProxyLoop(this, i);
        }
    }

    public IReadOnlyList<ServerPool> Pools => _pools;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Loads the configuration, binds every pool's listener and starts the loops.</summary>
    public void Start()
    {
        var configs = NutcrackerConfig.Load(_configPath);
        foreach (var loop in _loops)
        {
            loop.Start();
        }
        Apply(configs);
    }

    /// <summary>
    /// Reads the configuration again and serves it: returns what changed, or throws <see cref="ProxyConfigException"/>
    /// (the running configuration then stays).
    /// </summary>
    public string Reload()
    {
        var configs = NutcrackerConfig.Load(_configPath);
        lock (_reloadGate)
        {
            var before = _pools;
            Apply(configs);
            var report = string.Join("; ", _pools.Select(pool => PlacementChange.Describe(before.FirstOrDefault(p => p.Name == pool.Name), pool)));
            ProxyLog.Notice($"configuration reloaded from {_configPath}: {report}");
            return report;
        }
    }

    /// <summary>
    /// <see cref="Reload"/> for SIGHUP and PROXY RELOAD: false with the reason (logged) when the file is refused, the
    /// running configuration then staying.
    /// </summary>
    public bool TryReload(out string report)
    {
        try
        {
            report = Reload();
            return true;
        }
        catch (ProxyConfigException e)
        {
            report = $"reload refused, the running configuration stays: {e.Message}";
            ProxyLog.Warning(report);
            return false;
        }
    }

    private void Apply(IReadOnlyList<PoolConfig> configs)
    {
        var pools = configs.Select((config, i) => new ServerPool(config, i)).ToList();
        var bound = new List<(Listener, ServerPool)>();
        var keep = new HashSet<string>();
        foreach (var pool in pools)
        {
            if (!_listeners.TryGetValue(pool.Config.Listen, out var listener))
            {
                listener = Bind(pool.Config);
                _listeners[pool.Config.Listen] = listener;
                ProxyLog.Notice($"pool '{pool.Name}' listening on {listener.Description}, {pool.Backends.Count} servers, {pool.Config.Distribution.ToString().ToLowerInvariant()} over {pool.Config.Hash.ToString().ToLowerInvariant()}");
            }
            keep.Add(pool.Config.Listen);
            bound.Add((listener, pool));
        }
        _pools = pools;
        var finished = new CountdownEvent(_loops.Length);
        foreach (var loop in _loops)
        {
            loop.Post(() =>
            {
                loop.UsePools(pools, bound);
                finished.Signal();
            });
        }
        finished.Wait(TimeSpan.FromSeconds(10));
        foreach (var listen in _listeners.Keys.Where(listen => !keep.Contains(listen)).ToList())
        {
            _listeners[listen].Dispose();
            _listeners.Remove(listen);
        }
    }

    private static Listener Bind(PoolConfig config)
    {
        if (config.ListenUnixPath is { } path)
        {
            return Listener.Unix(path, config.ListenPermissions, config.Backlog);
        }
        var host = config.ListenHost;
        if (!IPAddress.TryParse(host, out _) && host is not ("*" or "::*"))
        {
            host = Dns.GetHostAddresses(host).First().ToString();
        }
        return Listener.Tcp(host, config.ListenPort, config.Backlog);
    }

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Stop();
            loop.Dispose();
        }
        foreach (var listener in _listeners.Values)
        {
            listener.Dispose();
        }
        _listeners.Clear();
    }
}
