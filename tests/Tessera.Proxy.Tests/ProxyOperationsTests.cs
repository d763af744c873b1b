using System.Net.Sockets;
using System.Text.Json;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Proxy.Tests;

/// <summary>What an operator relies on: redis_auth with redis_db, client_connections, the stats port, reload on SIGHUP, config checks.</summary>
public sealed class ProxyOperationsTests
{
    [Fact]
    public void Auth_then_select_reach_the_configured_database_and_clients_must_authenticate()
    {
        using var backends = new Backends(2);
        foreach (var server in backends.Servers)
        {
            using var direct = server.Connect();
            direct.Call("CONFIG", "SET", "requirepass", "s3cret");
        }
        var port = FreePort.Next();
        var config = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  redis_auth: s3cret\n  redis_db: 3\n  servers:\n{backends.ServerLines()}");
        using var proxy = ProxyProcess.Tessera(config, FreePort.Next(), port);
        using var client = new RespClient(port);
        Assert.Equal("NOAUTH Authentication required.", client.Call("SET", "k", "v").Text);
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", client.Call("AUTH", "nope").Text);
        Assert.Equal("OK", client.Call("AUTH", "s3cret").Text);
        foreach (var key in Enumerable.Range(0, 20).Select(i => $"k{i}"))
        {
            Assert.Equal("OK", client.Call("SET", key, "v").Text);
        }
        long inDb3 = 0;
        foreach (var server in backends.Servers)
        {
            using var direct = server.Connect();
            direct.Call("AUTH", "s3cret");
            Assert.Equal(0, direct.Call("DBSIZE").Integer);
            direct.Call("SELECT", "3");
            inDb3 += direct.Call("DBSIZE").Integer;
        }
        Assert.Equal(20, inDb3);
    }

    [Fact]
    public void Client_connections_limit_refuses_the_extra_client()
    {
        using var backends = new Backends(1);
        var port = FreePort.Next();
        var config = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  client_connections: 2\n  servers:\n{backends.ServerLines()}");
        var statsPort = FreePort.Next();
        using var proxy = ProxyProcess.Tessera(config, statsPort, port);
        // The start-up probe's connection must be gone before the two allowed clients connect.
        WaitForClientCount(statsPort, 0);
        using var first = new RespClient(port);
        using var second = new RespClient(port);
        Assert.Equal("PONG", first.Call("PING").Text);
        Assert.Equal("PONG", second.Call("PING").Text);
        using var third = new RespClient(port);
        Assert.Equal("ERR max number of clients reached", third.Read().Text);
        Assert.True(third.IsClosedByServer());
        first.Dispose();
        third.Dispose();
        WaitForClientCount(statsPort, 1);
        using var fourth = new RespClient(port);
        Assert.Equal("PONG", fourth.Call("PING").Text);
    }

    [Fact]
    public void Stats_port_serves_nutcracker_shaped_json_with_working_counters()
    {
        using var backends = new Backends();
        var port = FreePort.Next();
        var statsPort = FreePort.Next();
        var config = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  hash: md5\n  servers:\n{backends.ServerLines(names: ["s1", "s2", "s3", "s4"])}");
        using var proxy = ProxyProcess.Tessera(config, statsPort, port);
        using var client = new RespClient(port);
        var keys = Enumerable.Range(0, 100).Select(i => $"k{i}").ToArray();
        client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "v" })]);
        client.Call(["MGET", .. keys]);
        client.Call("GET", "k1");

        using var stats = JsonDocument.Parse(ReadStats(statsPort));
        var root = stats.RootElement;
        Assert.Equal("nutcracker", root.GetProperty("service").GetString());
        Assert.True(root.GetProperty("uptime").GetInt64() >= 0);
        Assert.Equal(1, root.GetProperty("curr_connections").GetInt64());
        var pool = root.GetProperty("pool");
        // One fragment per backend holding some of the keys, for the MSET and again for the MGET.
        var holding = backends.Servers.Count(server => server.Connect().Call("DBSIZE").Integer > 0);
        Assert.Equal(2 * holding, pool.GetProperty("fragments").GetInt64());
        Assert.Equal(1, pool.GetProperty("client_connections").GetInt64());
        var servers = new[] { "s1", "s2", "s3", "s4" }.Select(name => pool.GetProperty(name)).ToList();
        Assert.Equal((2 * holding) + 1, servers.Sum(s => s.GetProperty("requests").GetInt64()));
        Assert.Equal((2 * holding) + 1, servers.Sum(s => s.GetProperty("responses").GetInt64()));
        Assert.True(servers.All(s => s.GetProperty("request_bytes").GetInt64() > 0 && s.GetProperty("response_bytes").GetInt64() > 0));
        Assert.Equal((2 * holding) + 1, servers.Sum(s => s.GetProperty("latency_us").EnumerateObject().Sum(bucket => bucket.Value.GetInt64())));
    }

    [Fact]
    public void Sighup_reloads_servers_without_dropping_clients()
    {
        using var backends = new Backends();
        var port = FreePort.Next();
        string Config(int servers) => $"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  hash: md5\n  servers:\n{string.Concat(backends.ServerLines().Split('\n').Take(servers).Select(line => line + "\n"))}";
        var path = backends.WriteConfig(Config(3));
        using var proxy = ProxyProcess.Tessera(path, FreePort.Next(), port);
        using var client = new RespClient(port);
        var keys = Enumerable.Range(0, 200).Select(i => $"k{i}").ToArray();
        client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "v" })]);
        using (var fourth = backends.Servers[3].Connect())
        {
            Assert.Equal(0, fourth.Call("DBSIZE").Integer);
        }

        File.WriteAllText(path, "pool:\n  listen: 127.0.0.1:1\n  hash: nope\n");
        proxy.Hangup();
        Assert.True(proxy.WaitForLog("reload refused"), proxy.Log);
        Assert.Equal("v", client.Call("GET", "k1").Text);

        File.WriteAllText(path, Config(4));
        proxy.Hangup();
        Assert.True(proxy.WaitForLog("3 -> 4 servers"), proxy.Log);
        Assert.Matches(@"\d+ of 100000 sampled keys \(2\d\.\d+ ?%\) change backend", proxy.Log);
        // The same connection goes on, now over four backends.
        Assert.Equal("OK", client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "w" })]).Text);
        using var added = backends.Servers[3].Connect();
        Assert.InRange(added.Call("DBSIZE").Integer, 20, 100);
        Assert.All(client.Call(["MGET", .. keys]).Items, value => Assert.Equal("w", value.Text));

        // The admin command does the same from a client, and reports.
        Assert.Equal("pool 'pool': 4 -> 4 servers, 0 of 100000 sampled keys (0.00%) change backend", client.Call("PROXY", "RELOAD").Text);
        File.WriteAllText(path, "pool:\n  listen: 127.0.0.1:1\n");
        var refused = client.Call("PROXY", "RELOAD");
        Assert.True(refused.IsError);
        Assert.StartsWith("ERR reload refused, the running configuration stays:", refused.Text, StringComparison.Ordinal);
        Assert.Equal("w", client.Call("GET", "k1").Text);
    }

    [Fact]
    public void Test_configuration_option_reports_the_line_and_exits_non_zero()
    {
        using var backends = new Backends(1);
        var good = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{FreePort.Next()}\n  redis: true\n  servers:\n{backends.ServerLines()}", "good.yml");
        var bad = backends.WriteConfig("pool:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: round_robin\n  servers:\n   - 127.0.0.1:2:1\n", "bad.yml");
        var (code, output) = TesseraProcess.RunTool("proxy", "-t", "-c", good);
        Assert.Equal(0, code);
        Assert.Contains("syntax is ok", output, StringComparison.Ordinal);
        (code, output) = TesseraProcess.RunTool("proxy", "-t", "-c", bad);
        Assert.Equal(1, code);
        Assert.Contains("bad.yml:4: pool 'pool': directive \"distribution\" is not a valid distribution", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Waits until the proxy counts <paramref name="count"/> client connections (its stats' curr_connections; the
    /// stats port opens just after the proxy's own).
    /// </summary>
    private static void WaitForClientCount(int statsPort, long count)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            long current = -1;
            try
            {
                current = JsonDocument.Parse(ReadStats(statsPort)).RootElement.GetProperty("curr_connections").GetInt64();
            }
            catch (SocketException)
            {
            }
            if (current == count)
            {
                return;
            }
            Assert.True(Environment.TickCount64 < deadline, $"the proxy counts {current} clients, not {count}");
            Thread.Sleep(20);
        }
    }

    private static string ReadStats(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect("127.0.0.1", port);
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
