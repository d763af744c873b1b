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
    public void A_script_that_does_not_compile_names_the_line()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var error = client.Call("EVAL", "return 1\nsyntax error here", "0");
        Assert.True(error.IsError);
        Assert.StartsWith("ERR Error compiling script (new function): user_script:2:", error.Text, StringComparison.Ordinal);
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
