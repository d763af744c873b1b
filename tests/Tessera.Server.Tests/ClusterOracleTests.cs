using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// A redis-server and a Tessera node, each in cluster mode serving all 16384 slots on its own (ADDSLOTSRANGE
/// 0 16383, cluster_state:ok), for the oracle scripts in Oracle/Cluster.
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

/// <summary>Every script in Oracle/Cluster runs against both cluster nodes; every reply must be byte-for-byte equal.</summary>
public sealed class ClusterOracleTests(ClusterOracleFixture fixture) : IClassFixture<ClusterOracleFixture>
{
    public static IEnumerable<object[]> Scripts()
        => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Oracle", "Cluster"), "*.redis").Order()
            .Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_replies_match_redis(string script)
    {
        using var oracle = new Oracle(fixture.Redis.Port, fixture.Tessera.Port);
        oracle.Run(OracleScript.Load(Path.Combine(AppContext.BaseDirectory, "Oracle", "Cluster", script)));
    }
}
