using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cluster.Tests;

/// <summary>
/// A Tessera node in cluster mode on its own: the replies that carry node ids and ports have redis-server's shape
/// (compared with those normalized), and nodes.conf keeps the node's identity and slots across a restart.
/// </summary>
public sealed partial class ClusterNodeTests
{
    [Fact]
    public void Nodes_slots_shards_and_info_have_redis_servers_shape()
    {
        using var redis = new RedisServerProcess("--cluster-enabled", "yes");
        using var node = new TesseraNode("--cluster-enabled", "yes");
        using var expected = redis.Connect();
        using var actual = node.Connect();
        foreach (var client in new[] { expected, actual })
        {
            Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "5460", "5462", "16383").Text);
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_size:1"));
        }
        foreach (var command in new[] { "NODES", "SLOTS", "SHARDS", "INFO" })
        {
            Assert.Equal(Normalized(expected.CallRaw("CLUSTER", command), redis.Port), Normalized(actual.CallRaw("CLUSTER", command), node.Port));
        }
        foreach (var client in new[] { expected, actual })
        {
            Assert.Equal("BUMPED 1", client.Call("CLUSTER", "BUMPEPOCH").Text);
            Assert.Equal("STILL 1", client.Call("CLUSTER", "BUMPEPOCH").Text);
            Assert.Equal("ERR Node config epoch is already non-zero", client.Call("CLUSTER", "SET-CONFIG-EPOCH", "5").Text);
        }
        Assert.Equal(Normalized(expected.CallRaw("CLUSTER", "NODES"), redis.Port), Normalized(actual.CallRaw("CLUSTER", "NODES"), node.Port));
    }

    [Fact]
    public void A_restarted_node_keeps_its_identity_and_slots_from_nodes_conf()
    {
        var directory = Directory.CreateTempSubdirectory("tessera-cluster-").FullName;
        try
        {
            string id;
            using (var node = new TesseraNode("--cluster-enabled", "yes", "--dir", directory, "--cluster-config-file", "my-nodes.conf"))
            using (var client = node.Connect())
            {
                id = client.Call("CLUSTER", "MYID").Text!;
                Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "99", "200", "200").Text);
                Assert.Equal("OK", client.Call("CLUSTER", "SET-CONFIG-EPOCH", "7").Text);
            }
            var saved = File.ReadAllText(Path.Combine(directory, "my-nodes.conf"));
            Assert.Matches($"^{id} :\\d+@\\d+ myself,master - 0 0 7 connected 0-99 200\nvars currentEpoch 7 lastVoteEpoch 0\n$", saved);

            using (var node = new TesseraNode("--cluster-enabled", "yes", "--dir", directory, "--cluster-config-file", "my-nodes.conf"))
            using (var client = node.Connect())
            {
                Assert.Equal(id, client.Call("CLUSTER", "MYID").Text);
                Assert.EndsWith(" 7 connected 0-99 200\n", client.Call("CLUSTER", "NODES").Text, StringComparison.Ordinal);
                Assert.Equal(99, client.Call("CLUSTER", "SLOTS").Items[0].Items[1].Integer);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Standalone_nodes_refuse_cluster_commands_as_redis_does()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        Assert.Equal("ERR This instance has cluster support disabled", client.Call("CLUSTER", "INFO").Text);
        Assert.Equal("ERR This instance has cluster support disabled", client.Call("READONLY").Text);
        Assert.Equal("OK", client.Call("SELECT", "1").Text);
    }

    /// <summary>A reply with node ids, the node's ports and bulk lengths (which follow the port's digits) masked.</summary>
    private static string Normalized(byte[] reply, int port)
    {
        var text = Encoding.ASCII.GetString(reply);
        text = NodeId().Replace(text, "<id>");
        text = text.Replace((port + 10000).ToString(CultureInfo.InvariantCulture), "<bus>", StringComparison.Ordinal)
            .Replace(port.ToString(CultureInfo.InvariantCulture), "<port>", StringComparison.Ordinal);
        return BulkLength().Replace(text, "$<n>\r\n");
    }

    [GeneratedRegex("[0-9a-f]{40}")]
    private static partial Regex NodeId();

    [GeneratedRegex(@"\$\d+\r\n")]
    private static partial Regex BulkLength();
}
