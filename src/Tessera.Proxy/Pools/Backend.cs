using System.Net;
using System.Net.Sockets;
using Tessera.Proxy.Config;

namespace Tessera.Proxy.Pools;

/// <summary>
/// One server of a pool, shared by every proxy thread: its address, its health (nutcracker's failure count and
/// retry time) and its counters. Each thread keeps its own connections to it.
/// </summary>
public sealed class Backend(ServerConfig config, int index)
{
    private EndPoint? _endPoint;

    public ServerConfig Config { get; } = config;

    /// <summary>Position in the pool (nutcracker's server index).</summary>
    public int Index { get; } = index;

    /// <summary>Consecutive failures since the last good reply (reset on ejection).</summary>
    public int FailureCount { get; set; }

    /// <summary>While ejected: when it may be tried again (Environment.TickCount64); 0 when live.</summary>
    public long RetryAtMs { get; set; }

    /// <summary>When it was last ejected (Unix seconds), for stats.</summary>
    public long EjectedAt { get; set; }

    public BackendStats Stats { get; } = new();

    /// <summary>The socket address, resolved on first use (nutcracker resolves lazily too).</summary>
    public EndPoint EndPoint => _endPoint ??= Config.UnixPath is { } path
        ? new UnixDomainSocketEndPoint(path)
        : new IPEndPoint(IPAddress.TryParse(Config.Host, out var ip) ? ip : Dns.GetHostAddresses(Config.Host)[0], Config.Port);

    public override string ToString() => Config.Name;
}
