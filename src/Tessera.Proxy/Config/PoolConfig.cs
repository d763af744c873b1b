using Tessera.Core.Distribution;
using Tessera.Core.Hashing;

namespace Tessera.Proxy.Config;

/// <summary>
/// One backend of a pool: the <c>host:port:weight [name]</c> line of nutcracker's <c>servers:</c>. Order is its
/// position as written (slot and range tables follow it; nutcracker's own order is by name).
/// </summary>
public sealed record ServerConfig(string Host, int Port, int Weight, string Name, string? UnixPath, int Order = 0)
{
    /// <summary>The address part as configured ("host:port:weight"), nutcracker's "pname" in stats.</summary>
    public string Address => UnixPath is null ? $"{Host}:{Port}:{Weight}" : $"{UnixPath}:{Weight}";
}

/// <summary>One pool of nutcracker's YAML, with nutcracker's defaults filled in.</summary>
public sealed record PoolConfig
{
    public required string Name { get; init; }

    /// <summary>The listen value as written ("127.0.0.1:22121" or "/path/sock 0666").</summary>
    public required string Listen { get; init; }

    public string ListenHost { get; init; } = "";

    public int ListenPort { get; init; }

    /// <summary>A unix socket path to listen on, else null.</summary>
    public string? ListenUnixPath { get; init; }

    /// <summary>Permissions of the unix socket (0 = default).</summary>
    public int ListenPermissions { get; init; }

    public NutcrackerHashKind Hash { get; init; } = NutcrackerHashKind.Fnv1a_64;

    /// <summary>Two characters, or empty.</summary>
    public string HashTag { get; init; } = "";

    public DistributionKind Distribution { get; init; } = DistributionKind.Ketama;

    /// <summary>Milliseconds to wait for a backend reply; -1 waits forever (nutcracker's default).</summary>
    public int TimeoutMs { get; init; } = -1;

    public int Backlog { get; init; } = 512;

    public bool Preconnect { get; init; }

    public bool Redis { get; init; }

    /// <summary>Password sent to every backend (AUTH before SELECT), also required from clients.</summary>
    public string RedisAuth { get; init; } = "";

    public int RedisDb { get; init; }

    /// <summary>Connections per backend (per proxy thread).</summary>
    public int ServerConnections { get; init; } = 1;

    public bool AutoEjectHosts { get; init; }

    public int ServerRetryTimeoutMs { get; init; } = 30_000;

    public int ServerFailureLimit { get; init; } = 2;

    public bool TcpKeepalive { get; init; }

    /// <summary>Most client connections the pool accepts; 0 = no limit.</summary>
    public int ClientConnections { get; init; }

    /// <summary>Slots of a <c>distribution: slots</c> pool (Tessera's <c>slots:</c>; 1024 as Codis, or 16384 with CRC16).</summary>
    public int Slots { get; init; } = 1024;

    /// <summary>Key-id ranges of a <c>distribution: range</c> pool, one per server in written order (<c>key_ranges:</c>).</summary>
    public IReadOnlyList<(long Low, long High)> KeyRanges { get; init; } = [];

    /// <summary>
    /// Seeds of a Redis Cluster the pool fronts (Tessera's <c>cluster:</c> directive, "host:port,host:port"): keys go
    /// to the master of their hash slot, learnt from CLUSTER SLOTS and kept current through MOVED; empty otherwise.
    /// </summary>
    public IReadOnlyList<(string Host, int Port)> ClusterSeeds { get; init; } = [];

    /// <summary>The servers, in nutcracker's order: sorted by name (shorter names first, then bytewise).</summary>
    public required IReadOnlyList<ServerConfig> Servers { get; init; }
}
