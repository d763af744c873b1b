using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Proxy.Tests;

/// <summary>Four backends behind Tessera's proxy, and one redis-server: the oracle for what the proxy answers.</summary>
public sealed class ProxiedBackends : IDisposable
{
    public ProxiedBackends()
    {
        Backends = new Backends();
        ProxyPort = FreePort.Next();
        var config = Backends.WriteConfig($"proxied:\n  listen: 127.0.0.1:{ProxyPort}\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n{Backends.ServerLines()}");
        Proxy = ProxyProcess.Tessera(config, FreePort.Next(), ProxyPort);
        Reference = new RedisServerProcess();
    }

    public Backends Backends { get; }

    public int ProxyPort { get; }

    public ProxyProcess Proxy { get; }

    public RedisServerProcess Reference { get; }

    public void Dispose()
    {
        Proxy.Dispose();
        Backends.Dispose();
        Reference.Dispose();
    }
}

/// <summary>
/// What the proxy answers must be what one redis-server with the same data answers, byte for byte: split and
/// merged commands (MGET, MSET, DEL, UNLINK, TOUCH, EXISTS, KEYS, DBSIZE, FLUSHALL), commands passed through, the
/// errors the proxy gives itself, and long pipelines mixing all of them (replies in request order).
/// </summary>
public sealed class FragmentOracleTests(ProxiedBackends setup) : IClassFixture<ProxiedBackends>
{
    [Fact]
    public void Fragment_script_matches_redis()
    {
        using var oracle = new Oracle(setup.Reference.Port, setup.ProxyPort);
        oracle.Run(OracleScript.Load(Path.Combine(AppContext.BaseDirectory, "Oracle", "fragments.redis")));
    }

    [Fact]
    public void Large_split_commands_with_binary_keys_match_redis()
    {
        using var oracle = new Oracle(setup.Reference.Port, setup.ProxyPort);
        oracle.Reconnect();
        var keys = Enumerable.Range(0, 600).Select(i => i % 5 == 0 ? $"\u00ff\u0001key{i}" : $"key:{i}").ToArray();
        oracle.Check(["MSET", .. keys.Take(500).SelectMany(k => new[] { k, new string('v', k.Length * 40) })]);
        oracle.Check(["MGET", .. keys]);
        oracle.Check(["EXISTS", .. keys, .. keys.Take(50)]);
        oracle.Check(["DEL", .. keys.Where((_, i) => i % 3 == 0)]);
        oracle.Check(["MGET", .. keys.Reverse()]);
        oracle.Check(["UNLINK", .. keys]);
        oracle.Check("DBSIZE");
    }

    [Fact]
    public void Long_pipeline_of_mixed_commands_keeps_request_order()
    {
        using var redis = new RespClient(setup.Reference.Port);
        using var proxy = new RespClient(setup.ProxyPort);
        redis.Call("FLUSHALL");
        proxy.Call("FLUSHALL");
        var batch = new MemoryStream();
        var random = new Random(7);
        const int Commands = 3000;
        for (var i = 0; i < Commands; i++)
        {
            string K() => $"k{random.Next(200)}";
            string[] command = (i % 7) switch
            {
                0 => ["SET", K(), $"{i}"],
                1 => ["GET", K()],
                2 => ["MGET", K(), K(), K(), K()],
                3 => ["INCR", $"n{random.Next(20)}"],
                4 => ["DEL", K(), K()],
                5 => ["MSET", K(), "a", K(), "b", K(), "c"],
                _ => ["PING"],
            };
            batch.Write(RespClient.Encode(command));
        }
        var bytes = batch.ToArray();
        redis.SendRaw(bytes);
        proxy.SendRaw(bytes);
        for (var i = 0; i < Commands; i++)
        {
            var expected = Encoding.Latin1.GetString(redis.ReadRaw());
            var actual = Encoding.Latin1.GetString(proxy.ReadRaw());
            Assert.True(expected == actual, $"reply {i}: redis {expected.ReplaceLineEndings(" ")} proxy {actual.ReplaceLineEndings(" ")}");
        }
    }

    [Fact]
    public void Scan_walks_every_backend_and_returns_every_key_once()
    {
        using var proxy = new RespClient(setup.ProxyPort);
        proxy.Call("FLUSHALL");
        var keys = Enumerable.Range(0, 1000).Select(i => $"scan:{i}").ToArray();
        proxy.Call(["MSET", .. keys.SelectMany(k => new[] { k, "1" })]);
        var seen = new List<string>();
        var cursor = "0";
        var calls = 0;
        do
        {
            var reply = proxy.Call("SCAN", cursor, "COUNT", "50");
            cursor = reply.Items[0].Text!;
            seen.AddRange(reply.Items[1].Items.Select(item => item.Text!));
            Assert.True(++calls < 1000, "SCAN did not end");
        }
        while (cursor != "0");
        Assert.Equal(keys.Order(), seen.Distinct().Order());
        var invalid = proxy.Call("SCAN", "abc");
        Assert.True(invalid.IsError);
        Assert.Equal("ERR invalid cursor", invalid.Text);
    }
}

/// <summary>Tessera's slot and range distributions place keys where their tables say, in the order servers are written.</summary>
public sealed class FixedTableDistributionTests
{
    [Theory]
    [InlineData("slots\n  slots: 1024")]
    [InlineData("slots\n  slots: 16384")]
    [InlineData("range\n  key_ranges: 0-249 250-499 500-749 750-")]
    public void Keys_land_on_the_server_their_table_names(string distribution)
    {
        using var backends = new Backends();
        var port = FreePort.Next();
        // Written in reverse port order: tables follow the written order, whatever nutcracker's name order is.
        var lines = string.Concat(backends.ServerLines().Split('\n', StringSplitOptions.RemoveEmptyEntries).Reverse().Select(line => line + "\n"));
        var config = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  distribution: {distribution}\n  servers:\n{lines}");
        using var proxy = ProxyProcess.Tessera(config, FreePort.Next(), port);
        using var client = new RespClient(port);
        var keys = Enumerable.Range(0, 1000).Select(i => $"user:{i}").ToArray();
        Assert.Equal("OK", client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "v" })]).Text);
        var placement = backends.Placement();
        var written = Enumerable.Range(0, 4).Reverse().ToList();
        var slots = distribution.Contains("16384", StringComparison.Ordinal) ? 16384 : 1024;
        var table = new Tessera.Core.Distribution.SlotTable(slots, written);
        foreach (var key in keys)
        {
            var id = int.Parse(key[5..], System.Globalization.CultureInfo.InvariantCulture);
            var expected = distribution.StartsWith("range", StringComparison.Ordinal) ? written[id / 250] : table.Locate(Encoding.ASCII.GetBytes(key));
            Assert.Equal(expected, placement[Convert.ToHexString(Encoding.ASCII.GetBytes(key))]);
        }
        if (distribution.StartsWith("range", StringComparison.Ordinal))
        {
            var error = client.Call("GET", "no-id");
            Assert.True(error.IsError);
            Assert.Contains("no live server for the key's id range", error.Text, StringComparison.Ordinal);
        }
    }
}
