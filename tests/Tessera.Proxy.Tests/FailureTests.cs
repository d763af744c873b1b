using System.Diagnostics;
using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Proxy.Tests;

/// <summary>
/// Backends failing under load: a killed backend costs errors only for its own keys, is ejected after
/// server_failure_limit failures (its keys then go elsewhere), and is readmitted after server_retry_timeout once it
/// is back; a hung backend times out; the proxy itself keeps serving throughout.
/// </summary>
public sealed class FailureTests
{
    [Fact]
    public void Killed_backend_is_ejected_and_readmitted_while_other_keys_keep_working()
    {
        using var backends = new Backends();
        var port = FreePort.Next();
        var config = backends.WriteConfig($"""
            pool:
              listen: 127.0.0.1:{port}
              redis: true
              auto_eject_hosts: true
              server_failure_limit: 2
              server_retry_timeout: 2000
              timeout: 1000
              servers:
            {backends.ServerLines()}
            """);
        using var proxy = ProxyProcess.Tessera(config, FreePort.Next(), port);
        using var client = new RespClient(port);
        var keys = Enumerable.Range(0, 400).Select(i => $"key:{i}").ToArray();
        Assert.Equal("OK", client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "before" })]).Text);
        var sizes = backends.Servers.Select(server =>
        {
            using var direct = server.Connect();
            return direct.Call("DBSIZE").Integer;
        }).ToList();
        // Which backend gets which keys depends on the backends' names (their random ports, under ketama over
        // fnv1a_64 keys differing in their last digit land together): the victim is the one holding the most.
        var victim = sizes.IndexOf(sizes.Max());
        Assert.True(sizes[victim] > 20, "keys per backend: " + string.Join(", ", sizes));
        var victimKeys = Backends.BulkStrings(backends.Servers[victim].Connect().CallRaw("KEYS", "*")).Select(k => Encoding.ASCII.GetString(k)).ToHashSet();

        var victimPort = backends.Servers[victim].Port;
        backends.Servers[victim].Dispose();
        var wrongErrors = new List<string>();
        var errorsOnVictimKeys = 0;
        var clock = Stopwatch.StartNew();
        var consecutiveOk = 0;
        // Writes go on until every key is served again (the dead backend ejected), bounded in time.
        for (var i = 0; consecutiveOk < 2 * keys.Length && clock.ElapsedMilliseconds < 20000; i++)
        {
            var key = keys[i % keys.Length];
            var reply = client.Call("SET", key, "after");
            if (!reply.IsError)
            {
                consecutiveOk++;
                continue;
            }
            consecutiveOk = 0;
            if (victimKeys.Contains(key))
            {
                errorsOnVictimKeys++;
            }
            else
            {
                wrongErrors.Add($"{key}: {reply.Text}");
            }
        }
        Assert.Empty(wrongErrors);
        Assert.True(errorsOnVictimKeys > 0, "the dead backend's keys never failed");
        Assert.True(consecutiveOk >= 2 * keys.Length, "the dead backend was not ejected within 20 s");
        Assert.False(proxy.HasExited);

        // Back on the same port: after the retry timeout its keys go to it again.
        backends.Servers[victim] = RedisServerProcess.OnPort(victimPort);
        var victimKey = victimKeys.First();
        var readmitted = false;
        clock.Restart();
        while (!readmitted && clock.ElapsedMilliseconds < 15000)
        {
            client.Call("SET", victimKey, "again");
            using var direct = backends.Servers[victim].Connect();
            readmitted = direct.Call("GET", victimKey).Text == "again";
            Thread.Sleep(100);
        }
        Assert.True(readmitted, "the restarted backend was not readmitted");
        // Log lines reach the test through a pipe, a moment after the proxy acted on them.
        Assert.True(proxy.WaitForLog("ejected"), proxy.Log);
        Assert.True(proxy.WaitForLog("readmitted"), proxy.Log);
    }

    [Fact]
    public void Hung_backend_times_out_only_its_own_keys()
    {
        using var backends = new Backends(count: 2);
        var port = FreePort.Next();
        var config = backends.WriteConfig($"pool:\n  listen: 127.0.0.1:{port}\n  redis: true\n  timeout: 300\n  distribution: modula\n  servers:\n{backends.ServerLines()}");
        using var proxy = ProxyProcess.Tessera(config, FreePort.Next(), port);
        using var client = new RespClient(port);
        var keys = Enumerable.Range(0, 50).Select(i => $"k{i}").ToArray();
        client.Call(["MSET", .. keys.SelectMany(k => new[] { k, "v" })]);
        var hungKeys = Backends.BulkStrings(backends.Servers[0].Connect().CallRaw("KEYS", "*")).Select(k => Encoding.ASCII.GetString(k)).ToHashSet();
        var liveKey = keys.First(k => !hungKeys.Contains(k));
        backends.Servers[0].Stop();
        try
        {
            var clock = Stopwatch.StartNew();
            var reply = client.Call("GET", hungKeys.First());
            Assert.True(reply.IsError);
            Assert.Equal("ERR Connection timed out", reply.Text);
            Assert.InRange(clock.ElapsedMilliseconds, 250, 3000);
            Assert.Equal("v", client.Call("GET", liveKey).Text);
        }
        finally
        {
            backends.Servers[0].Continue();
        }
        // The next request opens a new connection and succeeds.
        Assert.Equal("v", client.Call("GET", hungKeys.First()).Text);
    }
}
