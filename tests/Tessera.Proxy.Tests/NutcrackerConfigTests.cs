using Tessera.Core.Distribution;
using Tessera.Core.Hashing;
using Tessera.Proxy.Config;
using Xunit;

namespace Tessera.Proxy.Tests;

public sealed class NutcrackerConfigTests
{
    private const string Sample = """
        alpha:
          listen: 127.0.0.1:22121
          hash: fnv1a_64
          hash_tag: "{}"
          distribution: ketama
          auto_eject_hosts: true
          redis: true
          redis_auth: secret
          redis_db: 3
          server_retry_timeout: 2000
          server_failure_limit: 1
          server_connections: 2
          timeout: 400
          client_connections: 100
          tcpkeepalive: true
          servers:
           - 127.0.0.1:6380:1 server1
           - 127.0.0.1:6379:2
           - 127.0.0.1:11211:1

        beta:
          listen: /tmp/beta.sock 0600
          redis: true
          servers:
           - 127.0.0.1:7000:1
        """;

    [Fact]
    public void Reads_every_directive_and_fills_nutcracker_defaults()
    {
        var pools = NutcrackerConfig.Parse(Sample, "sample.yml");
        Assert.Equal(2, pools.Count);
        var alpha = pools[0];
        Assert.Equal(("127.0.0.1", 22121), (alpha.ListenHost, alpha.ListenPort));
        Assert.Equal(NutcrackerHashKind.Fnv1a_64, alpha.Hash);
        Assert.Equal("{}", alpha.HashTag);
        Assert.True(alpha.AutoEjectHosts && alpha.TcpKeepalive && alpha.Redis);
        Assert.Equal(("secret", 3, 2000, 1, 2, 400, 100), (alpha.RedisAuth, alpha.RedisDb, alpha.ServerRetryTimeoutMs, alpha.ServerFailureLimit, alpha.ServerConnections, alpha.TimeoutMs, alpha.ClientConnections));
        // Names: given, "host:port", or "host" alone for memcached's port; sorted shorter first, then bytewise.
        Assert.Equal(["server1", "127.0.0.1", "127.0.0.1:6379"], alpha.Servers.Select(s => s.Name));
        Assert.Equal("127.0.0.1:6379:2", alpha.Servers[2].Address);

        var beta = pools[1];
        Assert.Equal(("/tmp/beta.sock", 0x180), (beta.ListenUnixPath, beta.ListenPermissions));
        Assert.Equal((NutcrackerHashKind.Fnv1a_64, DistributionKind.Ketama, -1, 1, 30000, 2, false), (beta.Hash, beta.Distribution, beta.TimeoutMs, beta.ServerConnections, beta.ServerRetryTimeoutMs, beta.ServerFailureLimit, beta.AutoEjectHosts));
    }

    [Fact]
    public void Cluster_pools_name_seeds_instead_of_servers()
    {
        var pool = NutcrackerConfig.Parse("c:\n  listen: 127.0.0.1:1\n  redis: true\n  cluster: 127.0.0.1:7000, localhost:7001\n", "c.yml")[0];
        Assert.Equal([("127.0.0.1", 7000), ("localhost", 7001)], pool.ClusterSeeds);
        Assert.Empty(pool.Servers);
    }

    [Theory]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  hash: fnv\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"hash\" is not a valid hash")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: round\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"distribution\" is not a valid distribution")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  hash_tag: \"{\"\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"hash_tag\" is not a valid hash tag string with two characters")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  timeout: soon\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"timeout\" is not a number")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: yes\n  servers:\n   - 127.0.0.1:2:1\n", "3: pool 'a': directive \"redis\" is not \"true\" or \"false\"")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n", "invalid YAML")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  colour: red\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"colour\" is unknown")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  server_connections: 0\n  servers:\n   - 127.0.0.1:2:1\n", "4: pool 'a': directive \"server_connections\" cannot be 0")]
    [InlineData("a:\n  listen: 127.0.0.1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n", "2: pool 'a': directive \"listen\" has an invalid \"hostname:port\" format string")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:0\n", "5: pool 'a': server has a zero weight")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:99999:1\n", "5: pool 'a': server has an invalid port")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1 x\n   - 127.0.0.1:3:1 x\n", "5: pool 'a' has servers with same name 'x'")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n", "1: pool 'a' has no servers")]
    [InlineData("a:\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n", "1: pool 'a': directive \"listen:\" is missing")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n", "1: pool 'a' speaks memcached")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\nb:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n", "pools 'a' and 'b' have the same listen address '127.0.0.1:1'")]
    [InlineData("a: [1, 2]\n", "1: pool 'a' must be a mapping")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: slots\n  slots: 0\n  servers:\n   - 127.0.0.1:2:1\n", "5: pool 'a': directive \"slots\" must be between 1 and 16384")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: range\n  key_ranges: 0-9\n  servers:\n   - 127.0.0.1:2:1\n   - 127.0.0.1:3:1\n", "1: pool 'a' uses \"distribution: range\" and needs one \"key_ranges\" entry per server (1 for 2 servers)")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: range\n  key_ranges: 0-9 x\n  servers:\n   - 127.0.0.1:2:1\n", "5: pool 'a': directive \"key_ranges\" has an invalid range 'x'")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  cluster: 127.0.0.1:7000\n  servers:\n   - 127.0.0.1:2:1\n", "1: pool 'a' has both \"servers\" and \"cluster\"")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  cluster: 127.0.0.1\n", "4: pool 'a': directive \"cluster\" has an invalid \"host:port,host:port\" format string")]
    [InlineData("a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n---\nb: 1\n", "must contain only 1 document")]
    public void RefusesWithTheLineAndTheReason(string yaml, string expected)
    {
        var error = Assert.Throws<ProxyConfigException>(() => NutcrackerConfig.Parse(yaml, "bad.yml"));
        Assert.StartsWith("bad.yml", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
