using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Single requests that used to kill or hang a node (issue 17), each sent to a node running as a process of its
/// own: the request gets an answer (or its connection is closed, as Redis closes a client over its output limit),
/// and the node goes on serving everyone else.
/// </summary>
public sealed class RobustnessTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tessera-robust-" + Guid.NewGuid().ToString("N"));

    public RobustnessTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("ZADD", "ZRANDMEMBER", "WITHSCORES")]
    [InlineData("HSET", "HRANDFIELD", "WITHVALUES")]
    [InlineData("SADD", "SRANDMEMBER", null)]
    public void Huge_negative_random_counts_end_at_the_output_limit_instead_of_eating_memory(string create, string command, string? pairs)
    {
        // proto-max-bulk-len bounds a reply of repeated elements: 8 MB here, so the test is quick.
        using var node = Start("--proto-max-bulk-len", "8mb");
        using var client = node.Connect();
        client.Call(create == "SADD" ? ["SADD", "k", "a", "b"] : [create, "k", "1", "a"]);
        foreach (var count in new[] { "-4611686018427387903", "-9223372036854775807", "-100000000" })
        {
            using var greedy = node.Connect();
            greedy.Send(pairs is null || count == "-9223372036854775807" ? [command, "k", count] : [command, "k", count, pairs]);
            Assert.True(greedy.IsClosedByServer(30_000), $"{command} k {count} was not cut off at the limit");
        }
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.True(client.InfoField("memory", "used_memory") < 256L << 20);
        Assert.False(node.HasExited);
    }

    [Fact]
    public void Random_counts_out_of_range_are_refused_as_redis_refuses_them()
    {
        using var node = Start();
        using var client = node.Connect();
        client.Call("ZADD", "z", "0", "a");
        Assert.Equal("ERR value is out of range", client.Call("ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES").Text);
        Assert.Equal("ERR value is out of range", client.Call("ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES").Text);
        Assert.Equal("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            client.Call("ZRANDMEMBER", "z", "-9223372036854775808").Text);
        Assert.Single(client.Call("ZRANDMEMBER", "z", "9223372036854775807").Items);
    }

    [Theory]
    [InlineData("local a = {}; setmetatable(a,{__index=function() foo() end}) return a", "*0\r\n")]
    [InlineData("redis.setresp(3) local a = {}; setmetatable(a,{__index=function() foo() end}) return a", "*0\r\n")]
    [InlineData("return {1, setmetatable({}, {__index=function() error('x') end})}", "*2\r\n:1\r\n*0\r\n")]
    [InlineData("return {map=setmetatable({}, {__index=function() error('x') end})}", "*0\r\n")]
    public void Script_results_with_failing_metamethods_are_converted_without_running_them(string script, string expected)
    {
        using var node = Start();
        using var client = node.Connect();
        Assert.Equal(expected, Encoding.ASCII.GetString(client.CallRaw("EVAL", script, "0")));
        client.Call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() " + script + " end)");
        Assert.Equal(expected, Encoding.ASCII.GetString(client.CallRaw("FCALL", "f", "0")));
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Theory]
    [InlineData("error(setmetatable({}, {__index=function() error('x') end}))")]
    [InlineData("error({})")]
    [InlineData("error({err=5})")]
    [InlineData("error(setmetatable({}, {__tostring=function() error('y') end}))")]
    [InlineData("error(setmetatable({err='boom'}, {__newindex=function() error('x') end}))")]
    [InlineData("redis.log(redis.LOG_WARNING, setmetatable({}, {__tostring=function() error('x') end}))")]
    public void Script_errors_with_hostile_error_objects_become_error_replies(string script)
    {
        // redis-server 7.0.15 itself crashes on the first three.
        using var node = Start();
        using var client = node.Connect();
        var reply = client.Call("EVAL", script, "0");
        Assert.True(reply.IsError || reply.IsNull, reply.ToString());
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.False(node.HasExited);
    }

    [Fact]
    public void Deeply_nested_script_results_stop_at_redis_lua_stack_limit()
    {
        using var node = Start();
        using var client = node.Connect();
        foreach (var (depth, errorAt) in new[] { (7994, -1), (7995, 7995), (1_000_000, 7995) })
        {
            var script = $"local t = {{}} local c = t for i=1,{depth} do c[1] = {{}} c = c[1] end return t";
            var raw = Encoding.ASCII.GetString(client.CallRaw("EVAL", script, "0"));
            if (errorAt < 0)
            {
                Assert.EndsWith("*0\r\n", raw);
                Assert.Equal(depth, CountOf(raw, "*1\r\n"));
            }
            else
            {
                Assert.EndsWith("-ERR reached lua stack limit\r\n", raw);
                Assert.Equal(errorAt, CountOf(raw, "*1\r\n"));
            }
        }
    }

    [Theory]
    [InlineData("EVAL", "while true do end", "SCRIPT")]
    [InlineData("FCALL", "loop", "FUNCTION")]
    public void A_busy_script_leaves_every_loop_answering_and_can_be_killed_from_any_connection(string run, string what, string kill)
    {
        using var node = Start("--busy-reply-threshold", "50");
        using var setup = node.Connect();
        setup.Call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('loop', function() while true do end end)");
        foreach (var killer in Enumerable.Range(0, 6))
        {
            using var runner = node.Connect();
            runner.Send(run, what, "0");
            // Connections land on both I/O loops, the script's own among them.
            var others = Enumerable.Range(0, 6).Select(_ => node.Connect()).ToList();
            try
            {
                WaitUntilBusy(others[0]);
                foreach (var other in others)
                {
                    Assert.StartsWith("BUSY Redis is busy running a script. You can only call " + kill + " KILL", other.Call("PING").Text);
                }
                Assert.Equal("OK", others[killer].Call(kill, "KILL").Text);
                Assert.StartsWith("ERR Script killed by user with SCRIPT KILL...", runner.Read().Text);
                Assert.All(others, o => Assert.Equal("PONG", o.Call("PING").Text));
            }
            finally
            {
                others.ForEach(o => o.Dispose());
            }
        }
    }

    [Fact]
    public void A_transaction_meeting_a_busy_script_is_aborted_and_waiting_commands_run_after_it()
    {
        using var node = Start("--busy-reply-threshold", "50");
        using var client = node.Connect();
        client.Call("SET", "xx", "1");
        using var runner = node.Connect();
        using var other = node.Connect();
        using var watcher = node.Connect();
        Assert.Equal("OK", other.Call("MULTI").Text);
        Assert.Equal("QUEUED", other.Call("INCR", "xx").Text);
        runner.Send("EVAL", "while true do end", "0");
        WaitUntilBusy(client);
        Assert.StartsWith("BUSY", other.Call("INCR", "xx").Text);
        Assert.StartsWith("EXECABORT Transaction discarded because of: BUSY", other.Call("EXEC").Text);
        // WATCH reads the dataset: it waits for the script, and is answered once the script is gone.
        watcher.Send("WATCH", "xx");
        Assert.Equal("OK", client.Call("SCRIPT", "KILL").Text);
        Assert.True(runner.Read().IsError);
        Assert.Equal("OK", watcher.Read().Text);
        Assert.Equal("1", client.Call("GET", "xx").Text);
        Assert.Equal("asdf", other.Call("PING", "asdf").Text);
    }

    [Fact]
    public void Shutdown_nosave_stops_a_busy_script_that_wrote()
    {
        using var node = Start("--busy-reply-threshold", "50");
        using var client = node.Connect();
        using var runner = node.Connect();
        runner.Send("EVAL", "redis.call('set','x','y') while true do end", "0");
        WaitUntilBusy(client);
        Assert.StartsWith("UNKILLABLE", client.Call("SCRIPT", "KILL").Text);
        Assert.StartsWith("BUSY", client.Call("SHUTDOWN").Text);
        client.Send("SHUTDOWN", "NOSAVE");
        Assert.True(SpinWait.SpinUntil(() => node.HasExited, 30_000), "the node did not exit");
    }

    [Theory]
    [InlineData("local co = coroutine.wrap(function() while true do end end) co()")]
    [InlineData("while true do pcall(function() while true do end end) end")]
    [InlineData("local co = coroutine.create(function() while true do pcall(function() while true do end end) end end) coroutine.resume(co)")]
    public void A_script_hiding_its_loop_in_a_coroutine_or_a_pcall_is_still_killed(string script)
    {
        using var node = Start("--busy-reply-threshold", "50");
        using var client = node.Connect();
        using var runner = node.Connect();
        runner.Send("EVAL", script, "0");
        WaitUntilBusy(client);
        Assert.Equal("OK", client.Call("SCRIPT", "KILL").Text);
        // The script ends: with the kill's error, or (the coroutine swallowing it) with what it returns.
        Assert.NotNull(runner.Read());
        Assert.Equal("PONG", client.Call("PING").Text);
        // The hook is back to counting: the next script runs at full speed and is not stopped.
        Assert.Equal(1000000, client.Call("EVAL", "local n = 0 for i = 1, 1000000 do n = n + 1 end return n", "0").Integer);
    }

    [Theory]
    [InlineData("return string.rep('x', 2^28)")]
    [InlineData("local t = {} for i = 1, 1e9 do t[i] = i end")]
    [InlineData("local s = 'x' while true do s = s .. s end")]
    public void A_script_allocating_without_end_gets_an_error_at_the_lua_memory_limit(string script)
    {
        // The Lua state may hold what a request's reply may: a quarter of the GC heap limit, at least 64 MB.
        var limit = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };
        var directory = Path.Combine(_directory, "lua-memory");
        Directory.CreateDirectory(directory);
        using var node = new TesseraProcess(directory, limit, []);
        node.WaitUntilReady();
        using var client = node.Connect();
        var reply = client.Call("EVAL", script, "0");
        Assert.True(reply.IsError, reply.Text);
        Assert.Contains("not enough memory", reply.Text);
        Assert.Equal("3", client.Call("EVAL", "return tostring(1 + 2)", "0").Text);
        // What the script built was collected when it failed.
        Assert.True(client.InfoField("memory", "used_memory_lua") < 8L << 20);
    }

    [Fact]
    public void A_precompiled_chunk_is_refused_as_text_is_by_redis()
    {
        using var node = Start();
        using var client = node.Connect();
        // Lua 5.4 would run bytecode it is handed, unverified; Redis's Lua reads every chunk as text.
        byte[] precompiled = [0x1B, (byte)'L', (byte)'u', (byte)'a', 0x54, 0x00, 0x19, 0x93];
        Assert.Equal("ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'",
            client.Call([Encoding.ASCII.GetBytes("EVAL"), precompiled, "0"u8.ToArray()]).Text);
        Assert.True(client.Call("EVAL", "return loadstring(string.dump(function() return 1 end))", "0").IsNull);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void A_library_whose_code_never_ends_is_stopped_at_load()
    {
        using var node = Start();
        using var client = node.Connect();
        var reply = client.Call("FUNCTION", "LOAD", "#!lua name=lib\nwhile true do end");
        Assert.Contains("FUNCTION LOAD timeout", reply.Text);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void An_aof_rewrite_whose_directory_vanished_fails_alone()
    {
        // 2000 keys at 500 us each: the rewrite runs for a second, and its directory goes away meanwhile.
        using var node = Start("--appendonly", "yes", "--rdb-key-save-delay", "500");
        using var client = node.Connect();
        for (var i = 0; i < 2000; i++)
        {
            client.Send("SET", "key:" + i.ToString(CultureInfo.InvariantCulture), new string('v', 100));
        }
        for (var i = 0; i < 2000; i++)
        {
            client.Read();
        }
        client.Call("BGREWRITEAOF");
        // The node may create a file in it while it is being deleted ("Directory not empty"): delete again.
        var directory = Path.Combine(node.Directory, "appendonlydir");
        for (var attempt = 0; attempt < 100 && Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        Assert.True(client.WaitForText("INFO", "persistence", "aof_last_bgrewrite_status:err"));
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.False(node.HasExited);
    }

    [Fact]
    public void A_cluster_node_killed_and_restarted_at_once_binds_its_bus_port_again()
    {
        using var node = Start("--cluster-enabled", "yes");
        // A connection on the bus port, closed by the node's death: its end waits in TIME_WAIT on that port.
        using (var link = new TcpClient())
        {
            link.Connect("127.0.0.1", node.Port + 10000);
            node.Kill();
        }
        node.Restart();
        node.WaitUntilReady();
        using var client = node.Connect();
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.Contains("cluster_enabled:1", client.Call("INFO", "cluster").Text);
    }

    [Fact]
    public void A_cluster_node_whose_bus_port_is_taken_exits_with_a_message()
    {
        var port = FreePort.ForCluster();
        using var squatter = new TcpListener(System.Net.IPAddress.Loopback, port + 10000);
        squatter.Start();
        var (code, output) = TesseraProcess.RunTool("server", "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--save", "", "--dir", _directory);
        Assert.Equal(1, code);
        Assert.Contains("Could not create cluster bus TCP listening socket 127.0.0.1:" + (port + 10000).ToString(CultureInfo.InvariantCulture), output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public void Pushes_reach_a_client_whose_replies_are_off(int protocol)
    {
        using var node = Start();
        using var publisher = node.Connect();
        using var subscriber = node.Connect();
        subscriber.Call("HELLO", protocol.ToString(CultureInfo.InvariantCulture));
        subscriber.Send("CLIENT", "REPLY", "OFF");
        subscriber.Send("SUBSCRIBE", "channel");
        var push = protocol == 3 ? ">3\r\n" : "*3\r\n";
        Assert.Equal(push + "$9\r\nsubscribe\r\n$7\r\nchannel\r\n:1\r\n", Encoding.ASCII.GetString(subscriber.ReadRaw()));
        Assert.Equal(1, publisher.Call("PUBLISH", "channel", "hello").Integer);
        Assert.Equal(push + "$7\r\nmessage\r\n$7\r\nchannel\r\n$5\r\nhello\r\n", Encoding.ASCII.GetString(subscriber.ReadRaw()));
    }

    private TesseraProcess Start(params string[] options)
    {
        var directory = Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var node = new TesseraProcess(directory, options);
        node.WaitUntilReady();
        return node;
    }

    private static void WaitUntilBusy(RespClient client)
        => Assert.True(SpinWait.SpinUntil(() => client.Call("PING").Text?.StartsWith("BUSY", StringComparison.Ordinal) == true, 10_000));

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
