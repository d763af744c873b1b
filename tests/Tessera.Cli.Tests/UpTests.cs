using System.Diagnostics;
using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cli.Tests;

/// <summary><c>tessera up</c>: a local cluster of 3 masters and 3 replicas (and a proxy) that forms, serves, stops and rejoins.</summary>
public sealed class UpTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-up-").FullName;
    private readonly int _proxyPort = FreePort.Next();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Up_forms_a_cluster_that_serves_and_rejoins_after_a_restart()
    {
        var port = FreePort.ForCluster(6);
        using (var up = Start(port))
        {
            using var guard = new ProcessGuard(up);
            using var client = new RespClient(port);
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_known_nodes:6"));
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_state:ok"));
            var key = KeyServedBy(client, port);
            Assert.Equal("OK", client.Call("SET", key, "kept").Text);
            // cluster_state turns ok once the masters serve every slot, which can be before the replicas have
            // attached: until then a replica still counts as a shard of its own.
            var clock = Stopwatch.StartNew();
            while (client.Call("CLUSTER", "SHARDS").Items.Count != 3 && clock.ElapsedMilliseconds < 30000)
            {
                Thread.Sleep(100);
            }
            Assert.Equal(3, client.Call("CLUSTER", "SHARDS").Items.Count);
            // The proxy in front serves clients that know nothing of the cluster, keys of every master included.
            RedisServerProcess.WaitUntilReady(_proxyPort);
            using var plain = new RespClient(_proxyPort);
            var keys = Enumerable.Range(0, 300).Select(i => "p" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal("OK", plain.Call(["MSET", .. keys.SelectMany(k => new[] { k, k })]).Text);
            Assert.Equal(keys, plain.Call(["MGET", .. keys]).Items.Select(v => v.Text));
            Stop(up);
        }
        using (var up = Start(port))
        {
            using var guard = new ProcessGuard(up);
            using var client = new RespClient(port);
            Assert.True(client.WaitForText("CLUSTER", "INFO", "cluster_state:ok"));
            Assert.Equal("kept", client.Call("GET", KeyServedBy(client, port)).Text);
            using var replica = new RespClient(port + 3);
            Assert.True(replica.WaitForText("INFO", "replication", "master_link_status:up"));
            Stop(up);
        }
    }

    /// <summary>A key in a slot the node on <paramref name="port"/> serves.</summary>
    private static string KeyServedBy(RespClient client, int port)
    {
        var first = client.Call("CLUSTER", "SLOTS").Items.First(r => r.Items[2].Items[1].Integer == port).Items[0].Integer;
        for (var i = 0; ; i++)
        {
            var key = "k" + i.ToString(CultureInfo.InvariantCulture);
            if (client.Call("CLUSTER", "KEYSLOT", key).Integer >= first && client.Call("CLUSTER", "KEYSLOT", key).Integer < first + 5000)
            {
                return key;
            }
        }
    }

    private Process Start(int port)
    {
        var process = TesseraProcess.Launch("up", "--port", port.ToString(CultureInfo.InvariantCulture), "--dir", _directory,
            "--proxy-port", _proxyPort.ToString(CultureInfo.InvariantCulture));
        RedisServerProcess.WaitUntilReady(port, timeoutMs: 30000);
        return process;
    }

    /// <summary>
    /// SIGINT, as Ctrl-C: every node stops and the command exits cleanly. When the test run itself was started from
    /// a background job, SIGINT arrives ignored by inheritance and nothing can catch it; SIGTERM, handled alike, then.
    /// </summary>
    private static void Stop(Process up)
    {
        var signal = Signals.IsIgnored(up.Id, Signals.Interrupt) ? Signals.Terminate : Signals.Interrupt;
        Signals.Send(up.Id, signal);
        Assert.True(up.WaitForExit(30_000), $"tessera up did not stop on signal {signal}");
        Assert.Equal(0, up.ExitCode);
    }
}
