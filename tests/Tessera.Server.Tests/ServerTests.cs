using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Server commands and lifecycle: INFO, SLOWLOG, CONFIG REWRITE and SET port, unix sockets, SHUTDOWN.</summary>
public class ServerTests
{
    [Fact]
    public void Info_reports_the_network_rates_while_clients_send()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var value = new string('x', 10_000);
        double Rate(string field) => double.Parse(Regex.Match(client.Call("INFO", "stats").Text!, field + @":([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var deadline = Environment.TickCount64 + 10_000;
        while ((Rate("instantaneous_input_kbps") == 0 || Rate("instantaneous_output_kbps") == 0) && Environment.TickCount64 < deadline)
        {
            client.Call("SET", "k", value);
            client.Call("GET", "k");
        }
        Assert.True(Rate("instantaneous_input_kbps") > 0, "no input rate");
        Assert.True(Rate("instantaneous_output_kbps") > 0, "no output rate");
    }

    [Fact]
    public void Info_reports_Redis_sections_and_fields()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("SET", "a", "1", "EX", "100");
        client.Call("SET", "b", "2");
        client.Call("GET", "a");
        client.Call("GET", "missing");
        var info = client.Call("INFO").Text!;
        foreach (var section in new[] { "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace" })
        {
            Assert.Contains("# " + section + "\r\n", info, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("# Commandstats", info, StringComparison.Ordinal);
        Assert.Contains("redis_version:7.0.15\r\n", info, StringComparison.Ordinal);
        Assert.Contains($"tcp_port:{node.Port}\r\n", info, StringComparison.Ordinal);
        Assert.Matches(@"db0:keys=2,expires=1,avg_ttl=\d+\r\n", info);
        Assert.Contains("keyspace_hits:1\r\n", info, StringComparison.Ordinal);
        Assert.Contains("keyspace_misses:1\r\n", info, StringComparison.Ordinal);
        var all = client.Call("INFO", "all").Text!;
        Assert.Matches(@"cmdstat_set:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0", all);
        Assert.Matches(@"latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", all);
        Assert.Equal("", client.Call("INFO", "nosuchsection").Text);
        var two = client.Call("INFO", "server", "keyspace").Text!;
        Assert.StartsWith("# Server\r\n", two, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\n# Keyspace\r\n", two, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_are_counted_in_errorstats_and_commandstats()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("SET", "s", "x");
        client.Call("INCR", "s");
        client.Call("NOSUCHCOMMAND");
        client.Call("GET");
        var info = client.Call("INFO", "all").Text!;
        Assert.Contains("errorstat_ERR:count=3", info, StringComparison.Ordinal);
        Assert.Matches(@"cmdstat_incr:calls=1,.*failed_calls=1", info);
        Assert.Matches(@"cmdstat_get:calls=0,.*rejected_calls=1", info);
        Assert.Equal("OK", client.Call("CONFIG", "RESETSTAT").Text);
        Assert.DoesNotContain("errorstat_ERR", client.Call("INFO", "errorstats").Text!, StringComparison.Ordinal);
    }

    [Fact]
    public void Slowlog_records_commands_over_the_threshold_with_truncated_arguments()
    {
        using var node = new TesseraNode("--slowlog-log-slower-than", "0");
        using var client = node.Connect();
        client.Call("SET", "k", new string('x', 200));
        client.Call(["DEL", .. Enumerable.Range(0, 40).Select(i => "k" + i)]);
        var entries = client.Call("SLOWLOG", "GET", "2").Items;
        Assert.Equal(2, entries.Count);
        var del = entries[0];
        Assert.Equal(32, del.Items[3].Items.Count);
        Assert.Equal("... (10 more arguments)", del.Items[3].Items[31].Text);
        Assert.Equal(new string('x', 128) + "... (72 more bytes)", entries[1].Items[3].Items[2].Text);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", del.Items[4].Text);
        Assert.True(client.Call("SLOWLOG", "LEN").Integer >= 2);
        Assert.Equal("OK", client.Call("SLOWLOG", "RESET").Text);
        Assert.True(client.Call("SLOWLOG", "LEN").Integer <= 1);
    }

    [Fact]
    public void Config_rewrite_keeps_the_file_and_records_changes()
    {
        var dir = Directory.CreateTempSubdirectory("tessera-conf");
        var file = Path.Combine(dir.FullName, "redis.conf");
        File.WriteAllText(file, "# my settings\nport 0\nbind 127.0.0.1\nmaxmemory 100mb\nsave \"\"\n");
        using var server = new TesseraServer(ServerOptions.Load(file, []));
        server.Start();
        using var client = new RespClient(server.Port);
        Assert.Equal("104857600", client.Call("CONFIG", "GET", "maxmemory").Items[1].Text);
        client.Call("CONFIG", "SET", "maxmemory", "200mb");
        client.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        Assert.Equal("OK", client.Call("CONFIG", "REWRITE").Text);
        var text = File.ReadAllText(file);
        Assert.Contains("# my settings", text, StringComparison.Ordinal);
        Assert.Contains("maxmemory 209715200", text, StringComparison.Ordinal);
        Assert.Contains("maxmemory-policy allkeys-lru", text, StringComparison.Ordinal);
        Assert.DoesNotContain("maxmemory 100mb", text, StringComparison.Ordinal);
        var reloaded = ServerOptions.Load(file, []);
        Assert.NotNull(reloaded);
    }

    [Fact]
    public void Config_set_port_moves_the_listener()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var port = FreePort.Next();
        Assert.Equal("OK", client.Call("CONFIG", "SET", "port", port.ToString(CultureInfo.InvariantCulture)).Text);
        using var moved = new RespClient(port);
        Assert.Equal("PONG", moved.Call("PING").Text);
        Assert.Throws<SocketException>(() => new RespClient(node.Port).Dispose());
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void Config_set_of_a_port_in_use_rolls_every_value_back()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, FreePort.Next());
        squatter.Start();
        var used = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        var maxmemory = client.Call("CONFIG", "GET", "maxmemory").Items[1].Text;
        var port = client.Call("CONFIG", "GET", "port").Items[1].Text;
        Assert.Equal("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
            client.Call("CONFIG", "SET", "maxmemory", "10000001", "port", used, "client-query-buffer-limit", "10m").Text);
        Assert.Equal(maxmemory, client.Call("CONFIG", "GET", "maxmemory").Items[1].Text);
        Assert.Equal(port, client.Call("CONFIG", "GET", "port").Items[1].Text);
        using var again = node.Connect();
        Assert.Equal("PONG", again.Call("PING").Text);
    }

    [Fact]
    public void Unix_sockets_serve_clients_marked_with_the_U_flag()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tessera-{Guid.NewGuid():N}.sock");
        using var node = new TesseraNode("--unixsocket", path);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(RespClient.Encode("CLIENT", "INFO"));
        var buffer = new byte[4096];
        var n = socket.Receive(buffer);
        var text = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
        Assert.Contains($"addr={path}:0", text, StringComparison.Ordinal);
        Assert.Contains("flags=U", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_stops_the_node()
    {
        var node = new TesseraNode();
        using var client = node.Connect();
        client.Send("SHUTDOWN", "NOSAVE");
        Assert.True(client.IsClosedByServer());
        await node.Server.Stopped.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<SocketException>(() => new RespClient(node.Port).Dispose());
        node.Dispose();
    }

    [Fact]
    public void Debug_is_refused_unless_enabled_and_then_populates_keys()
    {
        using (var locked = new TesseraNode())
        using (var client = locked.Connect())
        {
            Assert.StartsWith("ERR DEBUG command not allowed.", client.Call("DEBUG", "SLEEP", "0").Text, StringComparison.Ordinal);
        }
        using var node = new TesseraNode("--enable-debug-command", "local");
        using var debug = node.Connect();
        Assert.Equal("OK", debug.Call("DEBUG", "POPULATE", "1000", "p", "10").Text);
        Assert.Equal(1000, debug.Call("DBSIZE").Integer);
        Assert.Equal("value:7\0\0\0", debug.Call("GET", "p:7").Text);
        Assert.Matches("^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:11 lru:\\d+ lru_seconds_idle:\\d+$", debug.Call("DEBUG", "OBJECT", "p:7").Text);
        Assert.Equal("ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP.", debug.Call("DEBUG", "FOO").Text);
    }

    [Fact]
    public void Memory_usage_and_stats_account_for_keys()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("SET", "small", "v");
        client.Call("SET", "large", new string('x', 10_000));
        var small = client.Call("MEMORY", "USAGE", "small").Integer;
        var large = client.Call("MEMORY", "USAGE", "large").Integer;
        Assert.InRange(small, 40, 200);
        Assert.InRange(large, 10_000, 10_200);
        var stats = client.Call("MEMORY", "STATS").Items;
        Assert.Equal("peak.allocated", stats[0].Text);
        Assert.Contains(stats, i => i.Text == "keys.count");
        var used = long.Parse(Regex.Match(client.Call("INFO", "memory").Text!, @"used_memory:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(used > large);
    }
}
