using System.Globalization;
using Tessera.Client;

namespace Tessera.Cli.Operations;

/// <summary>
/// Forms a cluster from empty nodes, as <c>redis-cli --cluster create</c> does: the first nodes become masters with
/// equal shares of the 16384 slots and config epochs 1..n, every node meets the first, and the others become
/// replicas of the masters in turn; then it waits until every node sees every other and reports cluster_state:ok.
/// </summary>
internal static class ClusterCreate
{
    public static void Run(IReadOnlyList<RedisConnection> nodes, int replicasPerMaster, TextWriter log, TimeSpan timeout)
    {
        var masters = nodes.Count / (replicasPerMaster + 1);
        if (masters < 1)
        {
            throw new InvalidOperationException("not enough nodes for one master");
        }
        for (var i = 0; i < masters; i++)
        {
            var start = i * 16384 / masters;
            var end = ((i + 1) * 16384 / masters) - 1;
            nodes[i].Execute("CLUSTER", "ADDSLOTSRANGE", Number(start), Number(end));
            nodes[i].Execute("CLUSTER", "SET-CONFIG-EPOCH", Number(i + 1));
            log.WriteLine($"Master {nodes[i].Endpoint}: slots {start}-{end}");
        }
        var (firstHost, firstPort) = RedisConnection.ParseEndpoint(nodes[0].Endpoint);
        foreach (var node in nodes.Skip(1))
        {
            node.Execute("CLUSTER", "MEET", firstHost, Number(firstPort));
        }
        // Known means known by id: a node still in its handshake is counted but has a provisional id.
        var ids = nodes.Select(n => n.Execute("CLUSTER", "MYID").Text!).ToList();
        WaitFor(() => nodes.All(n => n.Execute("CLUSTER", "NODES").Text! is var view && ids.All(id => view.Contains(id, StringComparison.Ordinal))),
            timeout, "the nodes did not all meet");
        var masterIds = ids.Take(masters).ToList();
        for (var i = masters; i < nodes.Count; i++)
        {
            var master = (i - masters) % masters;
            nodes[i].Execute("CLUSTER", "REPLICATE", masterIds[master]);
            log.WriteLine($"Replica {nodes[i].Endpoint} of {nodes[master].Endpoint}");
        }
        WaitFor(() => nodes.All(n => n.ClusterInfo("cluster_state") == "ok"), timeout, "the cluster did not reach cluster_state:ok");
        WaitFor(() => nodes.Skip(masters).All(n => n.Info("replication", "master_link_status") == "up"), timeout, "the replicas did not synchronize");
    }

    /// <summary>True when the nodes already form a cluster of all of them (a restart from their nodes.conf).</summary>
    public static bool Formed(IReadOnlyList<RedisConnection> nodes)
        => nodes.All(n => n.ClusterInfo("cluster_known_nodes") == Number(nodes.Count) && n.ClusterInfo("cluster_slots_assigned") == "16384");

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string failure)
        => Polling.WaitFor(condition, timeout, failure, TimeSpan.FromMilliseconds(50));

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
