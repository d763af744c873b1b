using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Keyspace notifications beyond the oracle script: events raised by the server itself (active expiry, eviction)
/// and a RESP3 client notified of its own writes.
/// </summary>
[Collection(OracleCollection.Name)]
public class KeyspaceNotificationTests(OracleFixture fixture)
{
    [Fact]
    public void A_resp3_client_gets_the_push_for_its_own_write_before_the_reply_as_redis_does()
    {
        byte[] Run(RespClient client)
        {
            client.Call("HELLO", "3");
            client.Call("CONFIG", "SET", "notify-keyspace-events", "KA");
            client.Call("SUBSCRIBE", "__keyspace@0__:own");
            // One request with three commands: everything answered to it, in order.
            client.SendRaw(RespClient.Encode("SET", "own", "v").Concat(RespClient.Encode("RPUSH", "own2", "x")).Concat(RespClient.Encode("DEL", "own")).ToArray());
            var replies = new List<byte>();
            for (var i = 0; i < 5; i++)
            {
                replies.AddRange(client.ReadRaw());
            }
            client.Call("CONFIG", "SET", "notify-keyspace-events", "");
            client.Call("DEL", "own2");
            return [.. replies];
        }

        using var redis = fixture.Redis.Connect();
        using var tessera = fixture.Tessera.Connect();
        var expected = Run(redis);
        Assert.Equal(Oracle.Escape(expected), Oracle.Escape(Run(tessera)));
        Assert.StartsWith(">3\r\n$7\r\nmessage\r\n", System.Text.Encoding.ASCII.GetString(expected));
    }

    [Fact]
    public void The_active_expire_cycle_publishes_expired_for_keys_nobody_touches()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        using var subscriber = node.Connect();
        client.Call("CONFIG", "SET", "notify-keyspace-events", "Ex");
        subscriber.Call("SUBSCRIBE", "__keyevent@0__:expired");
        for (var i = 0; i < 5; i++)
        {
            client.Call("PSETEX", "short" + i, "30", "v");
        }
        var expired = Enumerable.Range(0, 5).Select(_ => subscriber.Read().Items[2].Text).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => "short" + i), expired);
        Assert.Equal(0, client.Call("DBSIZE").Integer);
    }

    [Fact]
    public void Eviction_publishes_evicted_for_each_key_it_removes()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        using var subscriber = node.Connect();
        client.Call("CONFIG", "SET", "notify-keyspace-events", "Ee");
        client.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        subscriber.Call("SUBSCRIBE", "__keyevent@0__:evicted");
        for (var i = 0; i < 200; i++)
        {
            client.Call("SET", "key" + i, "value");
        }
        // Under a limit nothing fits in, every command evicts for a while first, until no key is left.
        client.Call("CONFIG", "SET", "maxmemory", "1");
        for (var i = 0; i < 1000 && client.Call("DBSIZE").Integer > 0; i++)
        {
        }
        client.Call("CONFIG", "SET", "maxmemory", "0");
        Assert.Equal(0, client.Call("DBSIZE").Integer);
        var evicted = Enumerable.Range(0, 200).Select(_ => subscriber.Read().Items[2].Text).Order(StringComparer.Ordinal);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => "key" + i).Order(StringComparer.Ordinal), evicted);
    }
}
