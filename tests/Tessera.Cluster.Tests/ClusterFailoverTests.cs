using System.Diagnostics;
using System.Globalization;
using Tessera.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Cluster.Tests;

/// <summary>
/// Failure detection and failover in a cluster of tessera processes (3 masters, a replica each): a master killed
/// or paused past the node timeout is replaced by its replica with every write it acknowledged with WAIT, the
/// cluster returns to ok, and the old master rejoins as a replica; CLUSTER FAILOVER hands a shard back by hand.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    private const long NodeTimeoutMs = 2000;

    [Fact]
    public void A_killed_master_is_replaced_in_time_without_losing_acknowledged_writes_and_rejoins_as_replica()
    {
        using var cluster = new LocalCluster(3, 1, NodeTimeoutMs);
        var ports = cluster.Nodes.Select(n => n.Port).ToList();
        using var client = new ClusterClient(ports);
        Write(client, 0, 3000);
        // Every write is acknowledged by a replica before the kill.
        Assert.All(client.CallEachConnection("WAIT", "1", "5000"), reply => Assert.Equal(1, reply.Integer));
        var victim = cluster.Masters()[0];
        var replica = ReplicaOf(cluster, victim);
        var watch = Stopwatch.StartNew();
        victim.Kill();
        Assert.True(WaitUntil(() => LocalCluster.Role(replica) == "master", 30_000), "the replica was not promoted");
        var promotedMs = watch.ElapsedMilliseconds;
        output.WriteLine($"replica promoted {promotedMs} ms after kill -9 (node timeout {NodeTimeoutMs} ms)");
        Assert.True(promotedMs <= NodeTimeoutMs + 2000, $"promotion took {promotedMs} ms");
        var survivors = cluster.Nodes.Where(n => n != victim).ToList();
        foreach (var node in survivors)
        {
            using var connection = node.Connect();
            Assert.True(connection.WaitForText("CLUSTER", "INFO", "cluster_state:ok", 10_000), $"cluster state of {node.Port}");
        }
        Verify(client, 0, 3000);
        output.WriteLine($"verified at {watch.ElapsedMilliseconds} ms");

        // The old master restarts from its nodes.conf, learns it lost its slots and follows the new master.
        victim.Restart();
        victim.WaitUntilReady();
        Assert.True(WaitUntil(() => LocalCluster.Role(victim) == "slave", 30_000), "the old master did not become a replica");
        Assert.True(LocalCluster.WaitForAgreement(cluster.Nodes), "the nodes disagree about slot owners");
        using (var connection = victim.Connect())
        {
            Assert.True(connection.WaitForText("INFO", "replication", "master_link_status:up"));
            Assert.Contains("master_port:" + replica.Port.ToString(CultureInfo.InvariantCulture), connection.Call("INFO", "replication").Text!, StringComparison.Ordinal);
        }

        output.WriteLine($"rejoined at {watch.ElapsedMilliseconds} ms");

        // CLUSTER FAILOVER gives the shard back, the writes made meanwhile included.
        Write(client, 3000, 500);
        using (var connection = victim.Connect())
        {
            Assert.Equal("OK", connection.Call("CLUSTER", "FAILOVER").Text);
        }
        Assert.True(WaitUntil(() => LocalCluster.Role(victim) == "master" && LocalCluster.Role(replica) == "slave", 20_000), "manual failover did not switch roles");
        output.WriteLine($"switched back at {watch.ElapsedMilliseconds} ms");
        Assert.True(LocalCluster.WaitForAgreement(cluster.Nodes), "the nodes disagree after the manual failover");
        Verify(client, 0, 3500);
    }

    [Fact]
    public void A_master_paused_past_the_node_timeout_is_replaced_and_follows_after_it_resumes()
    {
        using var cluster = new LocalCluster(3, 1, NodeTimeoutMs);
        using var client = new ClusterClient([.. cluster.Nodes.Select(n => n.Port)]);
        Write(client, 0, 1000);
        Assert.All(client.CallEachConnection("WAIT", "1", "5000"), reply => Assert.Equal(1, reply.Integer));
        var victim = cluster.Masters()[1];
        var replica = ReplicaOf(cluster, victim);
        victim.Stop();
        try
        {
            Assert.True(WaitUntil(() => LocalCluster.Role(replica) == "master", 30_000), "the replica was not promoted");
            using var other = cluster.Nodes.First(n => n != victim && n != replica).Connect();
            Assert.True(other.WaitForText("CLUSTER", "INFO", "cluster_state:ok", 10_000));
            var line = other.Call("CLUSTER", "NODES").Text!.Split('\n').Single(l => l.Contains(":" + victim.Port.ToString(CultureInfo.InvariantCulture) + "@", StringComparison.Ordinal));
            Assert.Contains("master,fail", line, StringComparison.Ordinal);
        }
        finally
        {
            victim.Continue();
        }
        Assert.True(WaitUntil(() => LocalCluster.Role(victim) == "slave", 30_000), "the resumed master did not step down");
        Assert.True(LocalCluster.WaitForAgreement(cluster.Nodes), "the nodes disagree about slot owners");
        using (var connection = victim.Connect())
        {
            Assert.True(connection.WaitForText("CLUSTER", "INFO", "cluster_state:ok", 10_000));
        }
        Verify(client, 0, 1000);
    }

    [Fact]
    public void A_replica_moves_to_a_master_left_without_replicas()
    {
        using var cluster = new LocalCluster(3, 1, NodeTimeoutMs);
        var masters = cluster.Masters();
        var (rich, orphan) = (masters[0], masters[1]);
        // A second replica for the first master (added by the add-node tool), then the second master loses its only one.
        var richReplica = ReplicaOf(cluster, rich);
        var spare = cluster.StartSpareNode();
        var (code, log) = TesseraProcess.RunTool("cluster", "add-node", LocalCluster.Endpoint(spare), LocalCluster.Endpoint(rich), "--master-id", LocalCluster.Id(rich));
        Assert.True(code == 0, log);
        using (var connection = spare.Connect())
        {
            Assert.True(connection.WaitForText("INFO", "replication", "master_link_status:up"));
        }
        var richReplicas = new[] { richReplica, spare };
        var lost = ReplicaOf(cluster, orphan);
        // The newcomer must have met the replica about to die: an orphan is a master seen with replicas before.
        var lostId = LocalCluster.Id(lost);
        Assert.True(WaitUntil(() => Nodes(spare).Contains(lostId + " ", StringComparison.Ordinal), 10_000), "the new replica never met the others");
        lost.Kill();
        // After the failure is agreed and five seconds of orphanhood, the first master's replica with the smaller id moves.
        var mover = richReplicas.OrderBy(r => LocalCluster.Id(r), StringComparer.Ordinal).First();
        Assert.True(WaitUntil(() => MasterPortOf(mover) == orphan.Port, 30_000), "no replica moved to the orphaned master; as the mover sees it:\n" + Nodes(mover));
        using (var connection = mover.Connect())
        {
            Assert.True(connection.WaitForText("INFO", "replication", "master_link_status:up"));
        }
        Assert.Equal(rich.Port, MasterPortOf(richReplicas.Single(r => r != mover)));
    }

    private static string Nodes(TesseraProcess node)
    {
        using var connection = node.Connect();
        return connection.Call("CLUSTER", "NODES").Text!;
    }

    private static int MasterPortOf(TesseraProcess replica)
    {
        using var connection = replica.Connect();
        var role = connection.Call("ROLE");
        return role.Items[0].Text == "slave" ? (int)role.Items[2].Integer : 0;
    }

    private static TesseraProcess ReplicaOf(LocalCluster cluster, TesseraProcess master)
    {
        using var connection = master.Connect();
        var id = connection.Call("CLUSTER", "MYID").Text!;
        var line = connection.Call("CLUSTER", "REPLICAS", id).Items.Single().Text!;
        var port = int.Parse(line.Split(' ')[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
        return cluster.NodeAt(port);
    }

    private static void Write(ClusterClient client, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            Assert.Equal("OK", client.Call("key:" + n, "SET", "key:" + n, "value:" + n).Text);
        }
    }

    private static void Verify(ClusterClient client, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            Assert.Equal("value:" + n, client.Call("key:" + n, "GET", "key:" + n).Text);
        }
    }

    private static bool WaitUntil(Func<bool> condition, int timeoutMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }
}
