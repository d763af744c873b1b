using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Expiry (lazy and active) and maxmemory eviction.</summary>
public class ExpiryAndEvictionTests
{
    [Fact]
    public void An_absolute_expiry_reads_back_no_later_than_it_was_set()
    {
        // The command's time is never behind the client's clock: PXAT now+10s reads back as at most 10000 ms.
        using var node = new TesseraNode();
        using var client = node.Connect();
        for (var i = 0; i < 200; i++)
        {
            var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 10000;
            client.Call("SET", "k", "v", "PXAT", at.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(client.Call("PTTL", "k").Integer, 9000, 10000);
        }
    }

    [Fact]
    public void Expired_keys_nobody_reads_are_reclaimed_by_the_active_cycle()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        for (var i = 0; i < 2000; i++)
        {
            client.Send("SET", "volatile:" + i, "x", "PX", "50");
        }
        for (var i = 0; i < 500; i++)
        {
            client.Send("SET", "persistent:" + i, "x");
        }
        for (var i = 0; i < 2500; i++)
        {
            client.Read();
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (client.Call("DBSIZE").Integer > 500 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.Equal(500, client.Call("DBSIZE").Integer);
        Assert.Equal(2000, client.InfoField("stats", "expired_keys"));
    }

    [Fact]
    public void Lazy_expiry_hides_a_key_the_moment_it_expires()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        client.Call("SET", "k", "v", "PX", "30");
        Assert.Equal("v", client.Call("GET", "k").Text);
        Thread.Sleep(60);
        Assert.Equal(1, client.Call("DBSIZE").Integer);
        Assert.True(client.Call("GET", "k").IsNull);
        Assert.Equal(0, client.Call("DBSIZE").Integer);
    }

    [Theory]
    [InlineData("allkeys-lru")]
    [InlineData("allkeys-lfu")]
    [InlineData("allkeys-random")]
    [InlineData("volatile-lru")]
    [InlineData("volatile-ttl")]
    public void Eviction_keeps_used_memory_under_maxmemory(string policy)
    {
        using var node = new TesseraNode("--maxmemory-policy", policy);
        using var client = node.Connect();
        var baseline = client.InfoField("memory", "used_memory");
        var limit = baseline + (4 * 1024 * 1024);
        client.Call("CONFIG", "SET", "maxmemory", limit.ToString(CultureInfo.InvariantCulture));
        var value = new string('v', 200);
        for (var i = 0; i < 40_000; i++)
        {
            var args = policy.StartsWith("volatile", StringComparison.Ordinal)
                ? new[] { "SET", "key:" + i, value, "EX", (10_000 + i).ToString(CultureInfo.InvariantCulture) }
                : ["SET", "key:" + i, value];
            client.Send(args);
            if (i % 100 == 99)
            {
                for (var j = 0; j < 100; j++)
                {
                    Assert.Equal("OK", client.Read().Text);
                }
            }
        }
        Assert.True(client.InfoField("memory", "used_memory") <= limit + (64 * 1024));
        Assert.True(client.InfoField("stats", "evicted_keys") > 0);
        Assert.True(client.Call("DBSIZE").Integer > 1000);
    }

    [Fact]
    public void Noeviction_refuses_writes_with_OOM_but_serves_reads()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("SET", "readable", "yes");
        var baseline = client.InfoField("memory", "used_memory");
        client.Call("CONFIG", "SET", "maxmemory", (baseline + (1024 * 1024)).ToString(CultureInfo.InvariantCulture));
        var value = new string('v', 1000);
        string? error = null;
        for (var i = 0; i < 10_000 && error is null; i++)
        {
            var reply = client.Call("SET", "k" + i, value);
            error = reply.IsError ? reply.Text : null;
        }
        Assert.Equal("OOM command not allowed when used memory > 'maxmemory'.", error);
        Assert.Equal("yes", client.Call("GET", "readable").Text);
        Assert.Equal(1, client.Call("DEL", "readable").Integer);
    }
}
