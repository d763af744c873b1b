using System.Globalization;
using Tessera.Client;

namespace Tessera.Cli.Operations;

/// <summary>
/// Growing and shrinking a cluster as <c>redis-cli --cluster add-node / del-node</c> do: a new, empty node meets the
/// cluster (and optionally replicates the master with the fewest replicas); a node without slots is forgotten by
/// every other node and reset, its replicas first given to another master.
/// </summary>
internal static class ClusterMembership
{
    /// <summary>Adds the node at <paramref name="endpoint"/>; with <paramref name="replica"/>, as a replica.</summary>
    public static void Add(ClusterTopology cluster, string endpoint, bool replica, string? masterId, TextWriter log, TimeSpan timeout)
    {
        var (host, port) = RedisConnection.ParseEndpoint(endpoint);
        using var node = RedisConnection.Connect(host, port, timeout);
        if (node.ClusterInfo("cluster_known_nodes") != "1" || node.Execute("DBSIZE").Integer != 0)
        {
            throw new InvalidOperationException($"{endpoint} is not empty: it knows other nodes or holds keys (CLUSTER RESET it first)");
        }
        var seed = cluster.Nodes[0];
        var (seedHost, seedPort) = RedisConnection.ParseEndpoint(seed.Endpoint);
        node.Execute("CLUSTER", "MEET", seedHost, seedPort.ToString(CultureInfo.InvariantCulture));
        var id = node.Execute("CLUSTER", "MYID").Text!;
        // Joined once the seed knows the new node by its real id (not a handshake's provisional one).
        Polling.WaitFor(() => cluster.Connection(seed, timeout).Execute("CLUSTER", "NODES").Text!.Contains(id, StringComparison.Ordinal)
            && node.Execute("CLUSTER", "NODES").Text!.Contains(seed.Id, StringComparison.Ordinal),
            timeout, $"{endpoint} did not join the cluster", TimeSpan.FromMilliseconds(50));
        log.WriteLine($"[OK] {endpoint} ({id[..8]}...) joined the cluster.");
        if (!replica)
        {
            return;
        }
        var master = masterId is not null ? cluster.Find(masterId) : cluster.MasterWithFewestReplicas();
        Polling.WaitFor(() => node.Execute("CLUSTER", "NODES").Text!.Contains(master.Id, StringComparison.Ordinal),
            timeout, $"{endpoint} does not know {master.Endpoint} yet", TimeSpan.FromMilliseconds(50));
        node.Execute("CLUSTER", "REPLICATE", master.Id);
        log.WriteLine($"[OK] {endpoint} replicates {master.Endpoint}.");
    }

    /// <summary>Removes the node <paramref name="id"/> (an id, a prefix of one, or its host:port), which must serve no slots.</summary>
    public static void Delete(ClusterTopology cluster, string id, TextWriter log, TimeSpan timeout)
    {
        var victim = cluster.Find(id);
        if (victim.Slots.Count > 0)
        {
            throw new InvalidOperationException($"{victim.Endpoint} still serves {victim.Slots.Count} slots: reshard or rebalance them away first");
        }
        var others = cluster.Nodes.Where(n => n.Id != victim.Id).ToList();
        // Its replicas follow the master with the fewest replicas before it goes, as redis-cli arranges it.
        foreach (var orphan in others.Where(n => n.MasterId == victim.Id))
        {
            var master = cluster.MasterWithFewestReplicas(excluded: victim);
            cluster.Connection(orphan, timeout).Execute("CLUSTER", "REPLICATE", master.Id);
            log.WriteLine($"{orphan.Endpoint} now replicates {master.Endpoint}.");
        }
        foreach (var node in others.Where(n => cluster.Views.ContainsKey(n.Endpoint)))
        {
            cluster.Connection(node, timeout).Execute("CLUSTER", "FORGET", victim.Id);
        }
        if (cluster.Views.ContainsKey(victim.Endpoint))
        {
            cluster.Connection(victim, timeout).Execute("CLUSTER", "RESET", "SOFT");
        }
        log.WriteLine($"[OK] {victim.Endpoint} ({victim.Id[..8]}...) left the cluster and was reset.");
    }
}
