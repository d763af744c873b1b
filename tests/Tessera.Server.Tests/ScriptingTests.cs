using System.Diagnostics;
using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Scripts as applications use them: a distributed lock, a rate limiter run by redis-cli --eval.</summary>
public class ScriptingTests
{
    private const string Release = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    [Fact]
    public void A_lock_with_a_scripted_release_keeps_a_shared_counter_exact()
    {
        using var node = new TesseraNode();
        using var setup = node.Connect();
        setup.Call("SET", "counter", "0");
        var release = setup.Call("SCRIPT", "LOAD", Release).Text!;
        const int clients = 20;
        const int incrementsEach = 10;
        var clock = Stopwatch.StartNew();
        var contended = 0;
        Parallel.For(0, clients, new ParallelOptions { MaxDegreeOfParallelism = clients }, id =>
        {
            using var client = node.Connect();
            var token = "client-" + id.ToString(CultureInfo.InvariantCulture);
            for (var done = 0; done < incrementsEach && clock.Elapsed < TimeSpan.FromSeconds(60);)
            {
                if (client.Call("SET", "lock", token, "NX", "PX", "3000").IsNull)
                {
                    Interlocked.Increment(ref contended);
                    Thread.Yield();
                    continue;
                }
                // The critical section: a read-modify-write no other client may interleave with.
                var value = long.Parse(client.Call("GET", "counter").Text!, CultureInfo.InvariantCulture);
                client.Call("SET", "counter", (value + 1).ToString(CultureInfo.InvariantCulture));
                Assert.Equal(1, client.Call("EVALSHA", release, "1", "lock", token).Integer);
                done++;
            }
        });
        Assert.Equal(clients * incrementsEach, long.Parse(setup.Call("GET", "counter").Text!, CultureInfo.InvariantCulture));
        Assert.True(contended > 0, "no client ever waited for the lock, so the test proved nothing");
        Assert.Equal(0, setup.Call("EVAL", Release, "1", "lock", "not-the-owner").Integer);
    }

    [Fact]
    public void The_tutorial_rate_limiter_runs_from_redis_cli_eval()
    {
        using var node = new TesseraNode();
        var script = Path.Combine(Path.GetTempPath(), $"ratelimit-{Environment.ProcessId}.lua");
        File.WriteAllText(script, """
            local current = redis.call("incr", KEYS[1])
            if current == 1 then
              redis.call("expire", KEYS[1], ARGV[1])
            end
            if current > tonumber(ARGV[2]) then
              return 0
            end
            return 1
            """);
        try
        {
            var replies = Enumerable.Range(0, 5).Select(_ => RedisCli(node.Port, "--eval", script, "rate:user1", ",", "10", "3")).ToList();
            Assert.Equal(["1", "1", "1", "0", "0"], replies);
            using var client = node.Connect();
            var ttl = client.Call("TTL", "rate:user1").Integer;
            Assert.InRange(ttl, 1, 10);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public void Cjson_decodes_unicode_escapes_to_utf8()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var reply = client.Call("EVAL", "return cjson.decode('[\"\\\\u00e9\\\\ud83d\\\\ude00\\\\n\"]')[1]", "0");
        Assert.Equal("é😀\n", reply.Text);
    }

    [Fact]
    public void A_script_that_does_not_compile_names_the_line()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var error = client.Call("EVAL", "return 1\nsyntax error here", "0");
        Assert.True(error.IsError);
        Assert.StartsWith("ERR Error compiling script (new function): user_script:2:", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_script_looping_forever_gets_others_busy_until_script_kill()
    {
        using var node = new TesseraNode();
        var (looping, other) = StartSlowScript(node, "local i = 0 while true do i = i + 1 end");
        using var _ = looping;
        using var __ = other;
        var reply = WaitUntilBusy(other);
        Assert.Equal("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", reply.Text);
        Assert.Equal("OK", other.Call("SCRIPT", "KILL").Text);
        var killed = looping.Read();
        Assert.True(killed.IsError);
        Assert.StartsWith("ERR Script killed by user with SCRIPT KILL...", killed.Text, StringComparison.Ordinal);
        Assert.Equal("PONG", other.Call("PING").Text);
        Assert.Equal("PONG", looping.Call("PING").Text);
        Assert.Equal("NOTBUSY No scripts in execution right now.", other.Call("SCRIPT", "KILL").Text);
    }

    [Fact]
    public async Task A_busy_script_that_wrote_cannot_be_killed_but_shutdown_nosave_ends_it()
    {
        using var node = new TesseraNode();
        var (looping, other) = StartSlowScript(node, "redis.call('set', 'k', 'v') while true do end");
        using var _ = looping;
        using var __ = other;
        var clock = Stopwatch.StartNew();
        var reply = other.Call("SCRIPT", "KILL");
        while (reply.Text!.StartsWith("NOTBUSY", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            reply = other.Call("SCRIPT", "KILL");
        }
        Assert.StartsWith("UNKILLABLE Sorry the script already executed write commands", reply.Text, StringComparison.Ordinal);
        other.Send("SHUTDOWN", "NOSAVE");
        await node.Server.Stopped.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_function_looping_forever_is_stopped_by_function_kill_and_shown_by_function_stats()
    {
        using var node = new TesseraNode();
        using (var setup = node.Connect())
        {
            setup.Call("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)");
        }
        var (looping, other) = StartSlowScript(node, "FCALL", "spin", "0");
        using var _ = looping;
        using var __ = other;
        var reply = WaitUntilBusy(other);
        Assert.Equal("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.", reply.Text);
        Assert.Equal(reply.Text, other.Call("SCRIPT", "KILL").Text);
        var stats = other.Call("FUNCTION", "STATS").Items;
        Assert.StartsWith("[name, spin, command, [FCALL, spin, 0], duration_ms, ", stats[1].ToString(), StringComparison.Ordinal);
        Assert.Equal("OK", other.Call("FUNCTION", "KILL").Text);
        Assert.True(looping.Read().IsError);
        Assert.Equal("PONG", other.Call("PING").Text);
        Assert.Equal("[running_script, (nil), engines, [LUA, [libraries_count, 1, functions_count, 1]]]", other.Call("FUNCTION", "STATS").ToString());
    }

    /// <summary>PINGs (for at most 10 s) until the node answers with an error: the -BUSY of a slow script.</summary>
    private static RespValue WaitUntilBusy(RespClient other)
    {
        var clock = Stopwatch.StartNew();
        var reply = other.Call("PING");
        while (!reply.IsError && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            reply = other.Call("PING");
        }
        return reply;
    }

    /// <summary>Sends a script (EVAL body, or a whole command) that runs until killed (busy after 100 ms); returns its client and another one.</summary>
    private static (RespClient Looping, RespClient Other) StartSlowScript(TesseraNode node, params string[] command)
    {
        var looping = node.Connect();
        looping.Call("CONFIG", "SET", "busy-reply-threshold", "100");
        looping.Send(command.Length == 1 ? ["EVAL", command[0], "0"] : command);
        // Once the script runs, its I/O thread accepts nothing: a connection opened then lands on another one.
        Thread.Sleep(300);
        return (looping, node.Connect());
    }

    private static string RedisCli(int port, params string[] args)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit(10_000);
        return output;
    }
}
