using Tessera.TestKit;
using Xunit;

namespace Tessera.Cluster.Tests;

/// <summary>
/// A redis-server and a Tessera node, each in cluster mode serving all 16384 slots on its own (ADDSLOTSRANGE
/// 0 16383, cluster_state:ok), for the oracle scripts in Oracle/.
/// </summary>
public sealed class ClusterOracleFixture : IDisposable
{
    public ClusterOracleFixture()
    {
        Redis = new RedisServerProcess("--cluster-enabled", "yes");
        Tessera = new TesseraNode("--cluster-enabled", "yes");
        foreach (var port in new[] { Redis.Port, Tessera.Port })
        {
            using var client = new RespClient(port);
            client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            if (!client.WaitForText("CLUSTER", "INFO", "cluster_state:ok"))
            {
                throw new TimeoutException($"the node on port {port} did not reach cluster_state:ok");
            }
        }
    }

    public RedisServerProcess Redis { get; }

    public TesseraNode Tessera { get; }

    public void Dispose()
    {
        Redis.Dispose();
        Tessera.Dispose();
    }
}

/// <summary>Every script in Oracle/ runs against both cluster nodes; every reply must be byte-for-byte equal.</summary>
public sealed class ClusterOracleTests(ClusterOracleFixture fixture) : IClassFixture<ClusterOracleFixture>
{
    public static IEnumerable<object[]> Scripts() => OracleScript.Bundled();

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_replies_match_redis(string script)
    {
        using var oracle = new Oracle(fixture.Redis.Port, fixture.Tessera.Port);
        oracle.Run(OracleScript.LoadBundled(script));
    }
}

/// <summary>
/// CLUSTER LINKS on a three-node cluster of redis-servers and one of Tessera nodes: link times and buffer sizes
/// differ from run to run, so each node's links are compared by what they say (direction, which node, fields,
/// events) after checking that the numbers are plausible.
/// </summary>
public sealed class ClusterLinksOracleTests
{
    [Fact]
    public void Cluster_links_of_three_nodes_match_redis()
    {
        var redis = Enumerable.Range(0, 3).Select(_ => new RedisServerProcess("--cluster-enabled", "yes")).ToList();
        try
        {
            var (code, output) = RedisCli.Run(["--cluster", "create", .. redis.Select(r => "127.0.0.1:" + r.Port), "--cluster-yes"]);
            Assert.True(code == 0, output);
            using var tessera = new LocalCluster(3, 0, 5000);
            var expected = LinkViews(redis.Select(r => r.Port).ToList());
            var actual = LinkViews(tessera.Nodes.Select(n => n.Port).ToList());
            Assert.Equal(expected, actual);
        }
        finally
        {
            redis.ForEach(r => r.Dispose());
        }
    }

    /// <summary>
    /// Per node, its links once all four (to and from each other node) are up, each as "direction peer# events
    /// fields", peers numbered by their position in <paramref name="ports"/>.
    /// </summary>
    private static List<string> LinkViews(List<int> ports)
    {
        var ids = ports.Select(p =>
        {
            using var client = new RespClient(p);
            return client.Call("CLUSTER", "MYID").Text!;
        }).ToList();
        var views = new List<string>();
        for (var i = 0; i < ports.Count; i++)
        {
            using var client = new RespClient(ports[i]);
            var deadline = Environment.TickCount64 + 30_000;
            List<Dictionary<string, RespValue>> links;
            while (true)
            {
                links = [.. client.Call("CLUSTER", "LINKS").Items.Select(l => Enumerable.Range(0, l.Items.Count / 2)
                    .ToDictionary(k => l.Items[2 * k].Text!, k => l.Items[(2 * k) + 1]))];
                if (links.Count == 4 && links.All(l => l["events"].Text == "r"))
                {
                    break;
                }
                Assert.True(Environment.TickCount64 < deadline, $"node {i} on port {ports[i]} has not four idle links: "
                    + string.Join("; ", links.Select(l => string.Join(' ', l.Select(kv => $"{kv.Key}={kv.Value}")))));
                Thread.Sleep(50);
            }
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var link in links)
            {
                Assert.InRange(link["create-time"].Integer, now - 120_000, now);
                Assert.InRange(link["send-buffer-used"].Integer, 0, link["send-buffer-allocated"].Integer);
            }
            views.Add($"node {i}: cluster_connections {client.InfoField("clients", "cluster_connections")}: " + string.Join("; ", links
                .Select(l => $"{l["direction"].Text} {ids.IndexOf(l["node"].Text!)} {l["events"].Text} {string.Join(',', l.Keys)}")
                .Order(StringComparer.Ordinal)));
        }
        return views;
    }
}
