using Tessera.TestKit;
using Xunit;

namespace Tessera.Proxy.Tests;

/// <summary>
/// A pool with <c>cluster:</c> fronts a Tessera cluster for a client that knows nothing of clusters: keys reach the
/// master of their slot, multi-key commands are split by slot, and after a reshard the proxy follows MOVED (and
/// ASK while a slot is being imported) without the client seeing a redirection.
/// </summary>
public sealed class ClusterFrontTests
{
    [Fact]
    public void Cluster_unaware_client_uses_the_cluster_through_reshards_and_imports()
    {
        using var cluster = new LocalCluster(3, 0, 5000);
        var port = FreePort.Next();
        var path = Path.Combine(cluster.Nodes[0].Directory, "proxy.yml");
        File.WriteAllText(path, $"front:\n  listen: 127.0.0.1:{port}\n  redis: true\n  cluster: {LocalCluster.Endpoint(cluster.Nodes[0])}\n");
        using var proxy = ProxyProcess.Tessera(path, FreePort.Next(), port);
        using var client = new RespClient(port);

        var keys = Enumerable.Range(0, 2000).Select(i => $"user:{i}").ToArray();
        Assert.Equal("OK", client.Call(["MSET", .. keys.SelectMany(k => new[] { k, k + "-v" })]).Text);
        Assert.Equal(keys.Select(k => k + "-v"), client.Call(["MGET", .. keys]).Items.Select(v => v.Text));
        Assert.Equal(keys.Length, client.Call("DBSIZE").Integer);
        Assert.Equal(2, client.Call("DEL", keys[0], keys[1], "missing").Integer);
        foreach (var node in cluster.Nodes)
        {
            using var direct = node.Connect();
            Assert.InRange(direct.Call("DBSIZE").Integer, 500, 800);
        }

        // Move 3000 slots with their keys from the first master to the second behind the proxy's back.
        var (code, log) = TesseraProcess.RunTool(["cluster", "reshard", LocalCluster.Endpoint(cluster.Nodes[0]), "--from", LocalCluster.Id(cluster.Nodes[0])[..10],
            "--to", LocalCluster.Endpoint(cluster.Nodes[1]), "--slots", "3000"]);
        Assert.True(code == 0, log);
        Assert.Equal(keys.Skip(2).Select(k => k + "-v"), client.Call(["MGET", .. keys.Skip(2)]).Items.Select(v => v.Text));
        Assert.Equal("OK", client.Call("SET", keys[5], "after-reshard").Text);
        Assert.Equal("after-reshard", client.Call("GET", keys[5]).Text);

        // A slot being imported: a new key of that slot is created on the importing node through ASK.
        var slotKey = keys[10];
        var source = cluster.NodeAt(OwnerPort(cluster, slotKey));
        var target = cluster.Nodes.First(n => n.Port != source.Port);
        var slot = source.Connect().Call("CLUSTER", "KEYSLOT", "newkey{" + slotKey + "}").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        target.Connect().Call("CLUSTER", "SETSLOT", slot, "IMPORTING", LocalCluster.Id(source));
        source.Connect().Call("CLUSTER", "SETSLOT", slot, "MIGRATING", LocalCluster.Id(target));
        Assert.Equal("OK", client.Call("SET", "newkey{" + slotKey + "}", "imported").Text);
        Assert.Equal("imported", client.Call("GET", "newkey{" + slotKey + "}").Text);
        using var onTarget = target.Connect();
        onTarget.Call("ASKING");
        Assert.Equal("imported", onTarget.Call("GET", "newkey{" + slotKey + "}").Text);
    }

    private static int OwnerPort(LocalCluster cluster, string key)
    {
        using var any = cluster.Nodes[0].Connect();
        var slot = any.Call("CLUSTER", "KEYSLOT", key).Integer;
        foreach (var range in any.Call("CLUSTER", "SLOTS").Items)
        {
            if (range.Items[0].Integer <= slot && slot <= range.Items[1].Integer)
            {
                return (int)range.Items[2].Items[1].Integer;
            }
        }
        throw new InvalidOperationException($"slot {slot} has no owner");
    }
}
