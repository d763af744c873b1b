using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Blocked clients beyond what the oracle scripts cover: CLIENT UNBLOCK, disconnects, counts, many clients at once.</summary>
public class BlockingTests
{
    [Fact]
    public void A_client_blocked_on_a_key_that_expired_before_it_was_served_stays_blocked()
    {
        // Redis's list.tcl: the push and an expiry in one EXEC that outlasts the TTL (DEBUG SLEEP).
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        using var blocked = node.Connect();
        client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        var id = blocked.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        blocked.Send("BRPOP", "k", "0");
        Assert.True(SpinWait.SpinUntil(() => client.InfoField("clients", "blocked_clients") == 1, 5000));
        client.Call("MULTI");
        client.Call("RPUSH", "k", "hello");
        client.Call("PEXPIRE", "k", "100");
        client.Call("DEBUG", "SLEEP", "0.2");
        client.Call("EXEC");
        Assert.Contains("flags=b", client.Call("CLIENT", "LIST", "ID", id).Text);
        Assert.Equal(1, client.Call("CLIENT", "UNBLOCK", id).Integer);
        Assert.True(blocked.Read().IsNull);
    }

    [Fact]
    public void Client_unblock_ends_the_wait_with_a_null_or_an_error()
    {
        using var node = new TesseraNode();
        using var waiter = node.Connect();
        using var admin = node.Connect();
        var id = waiter.Call("CLIENT", "ID").Integer.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(0, admin.Call("CLIENT", "UNBLOCK", id).Integer);

        waiter.Send("BLPOP", "q", "0");
        WaitForBlocked(admin, 1);
        Assert.Contains("flags=b ", admin.Call("CLIENT", "LIST").Text, StringComparison.Ordinal);
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id, "ERROR").Integer);
        Assert.Equal("UNBLOCKED client unblocked via CLIENT UNBLOCK", waiter.Read().Text);

        waiter.Send("BLMOVE", "q", "d", "LEFT", "LEFT", "0");
        WaitForBlocked(admin, 1);
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id, "TIMEOUT").Integer);
        Assert.True(waiter.Read().IsNull);
        Assert.Equal(0, admin.Call("CLIENT", "UNBLOCK", id).Integer);
        Assert.Equal("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR", admin.Call("CLIENT", "UNBLOCK", id, "LATER").Text);
        Assert.Equal("PONG", waiter.Call("PING").Text);
    }

    [Fact]
    public void A_client_that_disconnects_while_blocked_takes_nothing()
    {
        using var node = new TesseraNode();
        using var admin = node.Connect();
        using (var gone = node.Connect())
        {
            gone.Send("BLPOP", "k", "0");
            WaitForBlocked(admin, 1);
        }
        WaitForBlocked(admin, 0);
        Assert.Equal(1, admin.Call("RPUSH", "k", "v").Integer);
        Assert.Equal(1, admin.Call("LLEN", "k").Integer);
    }

    [Fact]
    public void Commands_pipelined_after_a_blocking_one_run_after_it_is_served()
    {
        using var node = new TesseraNode();
        using var waiter = node.Connect();
        using var pusher = node.Connect();
        waiter.SendRaw([.. RespClient.Encode("BLPOP", "k", "0"), .. RespClient.Encode("LLEN", "k"), .. RespClient.Encode("PING")]);
        WaitForBlocked(pusher, 1);
        Assert.Equal(2, pusher.Call("RPUSH", "k", "a", "b").Integer);
        Assert.Equal("[k, a]", waiter.Read().ToString());
        Assert.Equal(1, waiter.Read().Integer);
        Assert.Equal("PONG", waiter.Read().Text);
    }

    [Fact]
    public void A_timeout_fires_close_to_its_deadline()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var started = Environment.TickCount64;
        Assert.True(client.Call("BRPOP", "k", "0.3").IsNull);
        var elapsed = Environment.TickCount64 - started;
        Assert.InRange(elapsed, 290, 2000);
        Assert.Contains("blocked_clients:0", client.Call("INFO", "clients").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_pushed_element_reaches_exactly_one_waiting_client()
    {
        const int Waiters = 20;
        const int Rounds = 25;
        using var node = new TesseraNode();
        var received = new System.Collections.Concurrent.ConcurrentBag<string>();
        var waiters = Enumerable.Range(0, Waiters).Select(_ => Task.Run(() =>
        {
            using var client = node.Connect();
            for (var i = 0; i < Rounds; i++)
            {
                var reply = client.Call("BLPOP", "a", "b", "10");
                Assert.False(reply.IsNull, "timed out waiting for an element");
                received.Add(reply.Items[1].Text!);
            }
        })).ToArray();
        using (var pusher = node.Connect())
        {
            for (var i = 0; i < Waiters * Rounds; i++)
            {
                pusher.Call(i % 2 == 0 ? "RPUSH" : "LPUSH", i % 3 == 0 ? "a" : "b", i.ToString(CultureInfo.InvariantCulture));
            }
        }
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, Waiters * Rounds).Select(i => i.ToString(CultureInfo.InvariantCulture)).Order(),
            received.Order());
    }

    private static void WaitForBlocked(RespClient admin, int count)
    {
        var deadline = Environment.TickCount64 + 5000;
        while (!admin.Call("INFO", "clients").Text!.Contains($"blocked_clients:{count}\r\n", StringComparison.Ordinal))
        {
            Assert.True(Environment.TickCount64 < deadline, $"blocked_clients never reached {count}");
            Thread.Sleep(5);
        }
    }
}
