using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cluster.Tests;

/// <summary>
/// Real cluster clients, unchanged, against a cluster of tessera processes (3 masters, a replica each): redis-py's
/// RedisCluster (Debian's python3-redis) and ioredis's Cluster (npm, installed by test.sh into tests/clients/node).
/// Each script checks SET/GET over all slots, pipelines, hash tags, CROSSSLOT and what else its client offers, and
/// exits non-zero at the first difference.
/// </summary>
public sealed class ClientLibraryTests : IClassFixture<ClientLibraryTests.Cluster>
{
    private readonly Cluster _cluster;

    public ClientLibraryTests(Cluster cluster) => _cluster = cluster;

    /// <summary>One cluster for both clients: their keys do not collide and each checks its own.</summary>
    public sealed class Cluster : IDisposable
    {
        public LocalCluster Nodes { get; } = new(3, 1, 5000);

        public string SeedPort => Nodes.Nodes[0].Port.ToString(CultureInfo.InvariantCulture);

        public void Dispose() => Nodes.Dispose();
    }

    /// <summary>Debian's interpreter, where apt installs python3-redis (a python3 earlier on PATH may not see it).</summary>
    private static string DebianPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    [Fact]
    public void Redis_py_cluster_client_works_unchanged()
    {
        var (code, output) = ExternalProgram.Run(DebianPython, [RepositoryFiles.PathOf("tests", "clients", "python", "cluster_client_test.py"), _cluster.SeedPort], 180_000);
        Assert.True(code == 0, output);
        Assert.Contains("redis-py RedisCluster: all checks passed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ioredis_cluster_client_works_unchanged()
    {
        var (code, output) = ExternalProgram.Run("node", [RepositoryFiles.PathOf("tests", "clients", "node", "cluster_client_test.js"), _cluster.SeedPort], 180_000);
        Assert.True(code == 0, output);
        Assert.Contains("ioredis Cluster: all checks passed", output, StringComparison.Ordinal);
    }
}
