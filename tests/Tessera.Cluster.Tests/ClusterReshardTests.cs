using System.Globalization;
using Tessera.Core.Hashing;
using Tessera.TestKit;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Cluster.Tests;

/// <summary>
/// Moving slots between the masters of a running cluster while a client writes and reads: redis-cli --cluster
/// reshard drives SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT, MIGRATE and SETSLOT NODE against tessera nodes; the
/// client follows MOVED and ASK and must never lose a write or read a wrong value.
/// </summary>
public sealed class ClusterReshardTests(ITestOutputHelper output)
{
    private const int Keys = 20_000;

    [Fact]
    public void Redis_cli_reshard_moves_1200_slots_under_a_verifying_writer_without_losing_a_write()
    {
        using var cluster = ReshardUnderLoad((from, to) => RedisCli.Run(["--cluster", "reshard", LocalCluster.Endpoint(from), "--cluster-from", LocalCluster.Id(from),
            "--cluster-to", LocalCluster.Id(to), "--cluster-slots", "1200", "--cluster-yes", "--cluster-pipeline", "10"], timeoutMs: 300_000));
    }

    [Fact]
    public void Tessera_cluster_reshard_moves_1200_slots_under_a_verifying_writer_and_check_and_info_report_it()
    {
        using var cluster = ReshardUnderLoad((from, to) => TesseraProcess.RunTool(["cluster", "reshard", LocalCluster.Endpoint(from), "--from", LocalCluster.Id(from)[..10],
            "--to", LocalCluster.Endpoint(to), "--slots", "1200", "--pipeline", "10"]));
        var (code, log) = TesseraProcess.RunTool(["cluster", "info", LocalCluster.Endpoint(cluster.Nodes[2])]);
        Assert.True(code == 0, log);
        Assert.Contains($"[OK] {Keys} keys in 3 masters.", log, StringComparison.Ordinal);
        Assert.Contains("| 4261 slots |", log, StringComparison.Ordinal);
        Assert.Contains("| 6662 slots |", log, StringComparison.Ordinal);
        // An interrupted reshard leaves an open slot, which check reports.
        using (var node = cluster.Nodes[0].Connect())
        {
            Assert.Equal("OK", node.Call("CLUSTER", "SETSLOT", "5000", "MIGRATING", LocalCluster.Id(cluster.Nodes[1])).Text);
        }
        (code, log) = TesseraProcess.RunTool(["cluster", "check", LocalCluster.Endpoint(cluster.Nodes[1])]);
        Assert.Equal(1, code);
        Assert.Contains("has open slots: [5000->-" + LocalCluster.Id(cluster.Nodes[1]) + "]", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Tessera_cluster_add_node_rebalance_and_del_node_grow_and_shrink_a_serving_cluster()
    {
        using var cluster = new LocalCluster(3, 0, 5000);
        var extra = cluster.StartSpareNode();
        var seed = LocalCluster.Endpoint(cluster.Nodes[0]);
        var ports = cluster.Nodes.Select(n => n.Port).Append(extra.Port).ToList();
        using (var loader = new ClusterClient(ports))
        {
            for (var i = 0; i < 3000; i++)
            {
                Assert.Equal("OK", loader.Call(Key(i), "SET", Key(i), Value(i, 0)).Text);
            }
        }
        var (code, log) = TesseraProcess.RunTool(["cluster", "add-node", LocalCluster.Endpoint(extra), seed]);
        Assert.True(code == 0, log);
        (code, log) = TesseraProcess.RunTool(["cluster", "rebalance", seed, "--use-empty-masters"]);
        Assert.True(code == 0, log);
        (code, log) = TesseraProcess.RunTool(["cluster", "info", seed]);
        var slots = log.Split('\n').Where(l => l.Contains(" slots |", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split('|')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.True(slots.Count == 4 && slots.All(n => n is >= 4000 and <= 4200), log);

        // Weight 0 empties the new node again, and del-node takes it out.
        (code, log) = TesseraProcess.RunTool(["cluster", "rebalance", seed, "--weight", LocalCluster.Id(extra) + "=0"]);
        Assert.True(code == 0, log);
        (code, log) = TesseraProcess.RunTool(["cluster", "del-node", seed, LocalCluster.Id(extra)]);
        Assert.True(code == 0, log);
        using (var node = extra.Connect())
        {
            Assert.Contains("cluster_known_nodes:1", node.Call("CLUSTER", "INFO").Text!, StringComparison.Ordinal);
            Assert.Equal(0, node.Call("DBSIZE").Integer);
        }
        Assert.True(LocalCluster.WaitForAgreement(cluster.Nodes), "the remaining nodes disagree");
        using var reader = new ClusterClient([.. cluster.Nodes.Select(n => n.Port)]);
        for (var i = 0; i < 3000; i++)
        {
            Assert.Equal(Value(i, 0), reader.Call(Key(i), "GET", Key(i)).Text);
        }
        (code, log) = RedisCli.Run(["--cluster", "check", seed]);
        Assert.True(code == 0 && log.Contains("[OK] All 16384 slots covered.", StringComparison.Ordinal), log);
        Assert.DoesNotContain(LocalCluster.Id(extra), log, StringComparison.Ordinal);
    }

    [Fact]
    public void Tessera_cluster_fix_finishes_an_interrupted_move_and_serves_an_unserved_slot()
    {
        using var cluster = new LocalCluster(3, 0, 5000);
        var (a, b) = (cluster.Nodes[0], cluster.Nodes[1]);
        var ports = cluster.Nodes.Select(n => n.Port).ToList();
        var tag = TagFor(100);
        var keys = Enumerable.Range(0, 50).Select(i => "{" + tag + "}:" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        using (var client = new ClusterClient(ports))
        {
            keys.ForEach(k => Assert.Equal("OK", client.Call(k, "SET", k, "v:" + k).Text));
        }
        // A reshard of slot 100 from a to b that stopped after 20 keys, and slot 200 dropped by every node.
        using (var source = a.Connect())
        using (var target = b.Connect())
        {
            Assert.Equal("OK", target.Call("CLUSTER", "SETSLOT", "100", "IMPORTING", LocalCluster.Id(a)).Text);
            Assert.Equal("OK", source.Call("CLUSTER", "SETSLOT", "100", "MIGRATING", LocalCluster.Id(b)).Text);
            Assert.Equal("OK", source.Call(["MIGRATE", "127.0.0.1", b.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys.Take(20)]).Text);
        }
        foreach (var node in cluster.Nodes)
        {
            using var connection = node.Connect();
            Assert.Equal("OK", connection.Call("CLUSTER", "DELSLOTS", "200").Text);
        }
        var seed = LocalCluster.Endpoint(cluster.Nodes[2]);
        Assert.Equal(1, TesseraProcess.RunTool("cluster", "check", seed).Code);
        var (code, log) = TesseraProcess.RunTool("cluster", "fix", seed);
        Assert.True(code == 0, log);
        Assert.True(LocalCluster.WaitForAgreement(cluster.Nodes), "the nodes disagree after fix");
        (code, log) = TesseraProcess.RunTool("cluster", "check", seed);
        Assert.True(code == 0, log);
        using var reader = new ClusterClient(ports);
        keys.ForEach(k => Assert.Equal("v:" + k, reader.Call(k, "GET", k).Text));
        using var owner = b.Connect();
        Assert.Equal(50, owner.Call("CLUSTER", "COUNTKEYSINSLOT", "100").Integer);
    }

    /// <summary>
    /// Loads keys into a 3-master cluster, runs <paramref name="reshard"/> from the first master to the second
    /// while a writer verifies every read, then checks that nothing was lost and the cluster is whole; returns the
    /// cluster (the caller disposes it).
    /// </summary>
    private LocalCluster ReshardUnderLoad(Func<TesseraProcess, TesseraProcess, (int Code, string Output)> reshard)
    {
        var cluster = new LocalCluster(3, 0, 5000);
        try
        {
            ReshardUnderLoad(cluster, reshard);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private void ReshardUnderLoad(LocalCluster cluster, Func<TesseraProcess, TesseraProcess, (int Code, string Output)> reshard)
    {
        var ports = cluster.Nodes.Select(n => n.Port).ToList();
        using (var loader = new ClusterClient(ports))
        {
            for (var i = 0; i < Keys; i++)
            {
                Assert.Equal("OK", loader.Call(Key(i), "SET", Key(i), Value(i, 0)).Text);
            }
        }
        var (from, to) = (cluster.Nodes[0], cluster.Nodes[1]);
        var writer = new VerifyingWriter(ports);
        var thread = new Thread(writer.Run) { IsBackground = true };
        thread.Start();
        var (code, log) = reshard(from, to);
        writer.Stop = true;
        thread.Join();
        Assert.True(code == 0, log);
        output.WriteLine($"writer: {writer.Writes} writes, {writer.Reads} verified reads, ASK {writer.Client.Asked}, MOVED {writer.Client.Moved}, retries {writer.Client.Retried}");
        Assert.Null(writer.Failure);
        Assert.True(writer.Client.Asked > 0 && writer.Client.Moved > 0, "the writer met no slot half moved (ASK) or moved (MOVED)");
        (code, log) = RedisCli.Run(["--cluster", "check", LocalCluster.Endpoint(to)]);
        Assert.True(code == 0, log);
        Assert.Contains("[OK] All 16384 slots covered.", log, StringComparison.Ordinal);
        Assert.Contains("[OK] All nodes agree about slots configuration.", log, StringComparison.Ordinal);
        // Every key holds its last acknowledged value, wherever it is now, and no key is on two nodes.
        using var reader = new ClusterClient(ports);
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal(Value(i, writer.Generation(i)), reader.Call(Key(i), "GET", Key(i)).Text);
        }
        Assert.Equal(Keys, cluster.Nodes.Sum(n =>
        {
            using var client = n.Connect();
            return client.Call("DBSIZE").Integer;
        }));
    }

    /// <summary>
    /// Keys in 200 slots spread over the 1200 moved (100 keys each, through a hash tag), so slots move with many
    /// keys in several MIGRATE batches and the writer meets them half moved (ASK).
    /// </summary>
    private static string Key(int i) => "{" + Tags[i % Tags.Length] + "}:" + i.ToString(CultureInfo.InvariantCulture);

    private static readonly string[] Tags = [.. Enumerable.Range(0, 200).Select(t => TagFor(t * 6))];

    private static string TagFor(int slot)
    {
        for (var n = 0; ; n++)
        {
            var tag = "t" + n.ToString(CultureInfo.InvariantCulture);
            if (HashSlot.Of(System.Text.Encoding.ASCII.GetBytes(tag)) == slot)
            {
                return tag;
            }
        }
    }

    private static string Value(int i, int generation) => $"value:{i}:{generation}";

    /// <summary>Overwrites keys with a new generation and reads others back, checking each against what it last wrote.</summary>
    private sealed class VerifyingWriter(List<int> ports)
    {
        private readonly int[] _generations = new int[Keys];

        public ClusterClient Client { get; } = new(ports);

        public volatile bool Stop;

        public int Writes { get; private set; }

        public int Reads { get; private set; }

        public string? Failure { get; private set; }

        public int Generation(int i) => _generations[i];

        public void Run()
        {
            var random = new Random(11);
            // Bounded: at most 200,000 operations even if the reshard hangs.
            for (var step = 0; step < 100_000 && !Stop && Failure is null; step++)
            {
                var i = random.Next(Keys);
                var next = _generations[i] + 1;
                var written = Client.Call(Key(i), "SET", Key(i), Value(i, next));
                if (written.Text != "OK")
                {
                    Failure = $"SET {Key(i)}: {written}";
                    break;
                }
                _generations[i] = next;
                Writes++;
                var j = random.Next(Keys);
                var read = Client.Call(Key(j), "GET", Key(j));
                if (read.Text != Value(j, _generations[j]))
                {
                    Failure = $"GET {Key(j)}: {read} instead of {Value(j, _generations[j])}";
                    break;
                }
                Reads++;
            }
            Client.Dispose();
        }
    }
}
