using System.Globalization;
using System.Net.Sockets;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cluster.Tests;

/// <summary>
/// Tessera nodes forming a cluster over the bus: CLUSTER MEET, gossip that introduces nodes nobody met directly,
/// slot claims and config epochs that converge, MOVED followed by a client, and a bus that shrugs off garbage.
/// </summary>
public sealed class ClusterBusTests
{
    [Fact]
    public void Three_nodes_meet_converge_and_route_every_key()
    {
        using var a = new TesseraNode("--cluster-enabled", "yes");
        using var b = new TesseraNode("--cluster-enabled", "yes");
        using var c = new TesseraNode("--cluster-enabled", "yes");
        var nodes = new[] { a, b, c };
        using (var client = a.Connect())
        {
            // b and c learn of each other only through a's gossip.
            Assert.Equal("OK", client.Call("CLUSTER", "MEET", "127.0.0.1", Port(b)).Text);
            Assert.Equal("OK", client.Call("CLUSTER", "MEET", "127.0.0.1", Port(c)).Text);
            Assert.Equal("ERR Invalid node address specified: nowhere:1", client.Call("CLUSTER", "MEET", "nowhere", "1").Text);
        }
        var ranges = new[] { ("0", "5460"), ("5461", "10922"), ("10923", "16383") };
        for (var i = 0; i < nodes.Length; i++)
        {
            using var client = nodes[i].Connect();
            Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", ranges[i].Item1, ranges[i].Item2).Text);
        }
        foreach (var node in nodes)
        {
            using var client = node.Connect();
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_state:ok"), "cluster state of " + Port(node));
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_known_nodes:3"));
        }
        // Every node has the same view: the same slots per node id, and distinct config epochs.
        var views = nodes.Select(View).ToList();
        Assert.All(views, view => Assert.Equal(views[0], view));
        using (var client = a.Connect())
        {
            var epochs = client.Call("CLUSTER", "NODES").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[6]).ToList();
            Assert.Equal(3, epochs.Distinct().Count());
        }

        // A client that follows MOVED reaches every key's node.
        var clients = nodes.ToDictionary(n => n.Port, n => n.Connect());
        try
        {
            var moved = 0;
            for (var i = 0; i < 300; i++)
            {
                var key = "key:" + i.ToString(CultureInfo.InvariantCulture);
                var reply = clients[a.Port].Call("SET", key, "v" + i.ToString(CultureInfo.InvariantCulture));
                if (reply.Text!.StartsWith("MOVED ", StringComparison.Ordinal))
                {
                    moved++;
                    var target = int.Parse(reply.Text.Split(' ')[2].Split(':')[1], CultureInfo.InvariantCulture);
                    Assert.Equal(reply.Text.Split(' ')[1], clients[target].Call("CLUSTER", "KEYSLOT", key).Text);
                    reply = clients[target].Call("SET", key, "v" + i.ToString(CultureInfo.InvariantCulture));
                }
                Assert.Equal("OK", reply.Text);
            }
            Assert.InRange(moved, 150, 250);
            Assert.Equal(300, nodes.Sum(n => clients[n.Port].Call("DBSIZE").Integer));
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public void Redis_cli_cluster_create_with_replicas_and_check_work_against_tessera_nodes()
    {
        var nodes = Enumerable.Range(0, 6).Select(_ => new TesseraNode("--cluster-enabled", "yes", "--repl-diskless-sync-delay", "0")).ToList();
        try
        {
            CreateAndCheck(nodes);
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
        }
    }

    /// <summary>redis-cli --cluster create (3 masters, a replica each), then the replicas' links and --cluster check.</summary>
    private static void CreateAndCheck(List<TesseraNode> nodes)
    {
        var endpoints = nodes.Select(n => "127.0.0.1:" + Port(n)).ToArray();
        var (code, output) = RedisCli.Run(["--cluster", "create", .. endpoints, "--cluster-replicas", "1", "--cluster-yes"]);
        Assert.True(code == 0, output);
        Assert.Contains("[OK] All 16384 slots covered.", output, StringComparison.Ordinal);
        var replicas = 0;
        foreach (var node in nodes)
        {
            using var client = node.Connect();
            if (client.Call("ROLE").Items[0].Text == "slave")
            {
                replicas++;
                Assert.True(client.WaitForText("INFO", "replication", "master_link_status:up"));
            }
        }
        Assert.Equal(3, replicas);
        using (var master = nodes[0].Connect())
        {
            // The replica's role reaches its master with its next PING.
            var id = master.Call("CLUSTER", "MYID").Text!;
            var lines = master.Call("CLUSTER", "REPLICAS", id).Items;
            for (var i = 0; i < 100 && lines.Count == 0; i++)
            {
                Thread.Sleep(50);
                lines = master.Call("CLUSTER", "REPLICAS", id).Items;
            }
            Assert.Single(lines);
            Assert.Contains(" slave " + id + " ", lines[0].Text!, StringComparison.Ordinal);
        }
        (code, output) = RedisCli.Run(["--cluster", "check", endpoints[1]]);
        Assert.True(code == 0, output);
        Assert.Contains("[OK] All nodes agree about slots configuration.", output, StringComparison.Ordinal);
        Assert.Contains("[OK] All 16384 slots covered.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_on_the_bus_port_closes_that_connection_only()
    {
        using var a = new TesseraNode("--cluster-enabled", "yes");
        using var b = new TesseraNode("--cluster-enabled", "yes");
        using var client = a.Connect();
        client.Call("CLUSTER", "MEET", "127.0.0.1", Port(b));
        Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_known_nodes:2"));
        var random = new Random(7);
        foreach (var garbage in new[] { "GET / HTTP/1.1\r\n\r\n"u8.ToArray(), "TSB1\xff\xff\xff\xff"u8.ToArray(), "TSB1\0\0\0\x10short"u8.ToArray(), Bytes(random, 4096) })
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            socket.Connect("127.0.0.1", a.Port + 10000);
            socket.Send(garbage);
            socket.Shutdown(SocketShutdown.Send);
            Assert.True(ClosedByPeer(socket), "the bus answered garbage instead of closing");
        }
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.Equal(2, client.Call("CLUSTER", "NODES").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains(" connected", client.Call("CLUSTER", "NODES").Text!, StringComparison.Ordinal);
    }

    /// <summary>True when the other end closed (end of stream, or a reset because our bytes were left unread).</summary>
    private static bool ClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Receive(new byte[64]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static string Port(TesseraNode node) => node.Port.ToString(CultureInfo.InvariantCulture);

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>"id slots" per node, sorted: what a node believes about who serves what.</summary>
    private static string View(TesseraNode node)
    {
        using var client = node.Connect();
        return string.Join("|", client.Call("CLUSTER", "NODES").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')).Select(f => f[0] + " " + string.Join(' ', f.Skip(8))).Order());
    }
}
