using System.Globalization;
using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// DUMP payloads move between redis-server and Tessera in both directions for every type and encoding: the
/// restored value has the same contents (DEBUG DIGEST-VALUE), type and encoding as the original.
/// </summary>
public sealed class DumpRestoreTests : DebugEnabledServers
{
    [Fact]
    public void Payloads_restore_across_servers_in_both_directions()
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        var keys = Fill(redis);
        Fill(tessera);
        foreach (var (from, to) in new[] { (redis, tessera), (tessera, redis) })
        {
            foreach (var key in keys)
            {
                var payload = from.CallBulk("DUMP", key);
                var copy = "copy:" + key;
                Assert.Equal("OK", to.Call([Bytes("RESTORE"), Bytes(copy), Bytes("0"), payload, Bytes("REPLACE")]).Text);
                Assert.Equal(from.Call("DEBUG", "DIGEST-VALUE", key).ToString(), to.Call("DEBUG", "DIGEST-VALUE", copy).ToString());
                Assert.Equal(from.Call("OBJECT", "ENCODING", key).Text, to.Call("OBJECT", "ENCODING", copy).Text);
            }
        }
        Assert.Equal(redis.Call("DEBUG", "DIGEST").Text, tessera.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void Restored_values_take_this_servers_encoding_thresholds()
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        redis.Call("HSET", "h", "a", "1", "b", "2", "c", "3");
        tessera.Call("CONFIG", "SET", "hash-max-listpack-entries", "2");
        try
        {
            var payload = redis.CallBulk("DUMP", "h");
            Assert.Equal("OK", tessera.Call([Bytes("RESTORE"), Bytes("h"), Bytes("0"), payload]).Text);
            Assert.Equal("hashtable", tessera.Call("OBJECT", "ENCODING", "h").Text);
            Assert.Equal(3, tessera.Call("HLEN", "h").Integer);
        }
        finally
        {
            tessera.Call("CONFIG", "SET", "hash-max-listpack-entries", "512");
        }
    }

    /// <summary>Every type in both its encodings, and strings in all three.</summary>
    private static List<string> Fill(RespClient client)
    {
        var keys = new List<string>();
        void Run(params string[] args)
        {
            client.Call(args);
            keys.Add(args[1]);
        }
        Run("SET", "string:int", "123");
        Run("SET", "string:bigint", "12345678901234");
        Run("SET", "string:embstr", "hello");
        Run("SET", "string:raw", new string('r', 100) + "abc" + new string('q', 60));
        Run("RPUSH", "list:small", "a", "1", "-5", "300", "70000", "9999999999", "x");
        Run("HSET", "hash:small", "f", "v", "g", "12");
        Run("SADD", "set:ints", "3", "-1", "70000", "5000000000");
        Run("SADD", "set:strings", "a", "b");
        Run("ZADD", "zset:small", "0.1", "a", "1", "b", "-inf", "c", "1e21", "d");
        for (var i = 0; i < 700; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            Run("RPUSH", "list:big", new string('x', i % 90) + n);
            Run("HSET", "hash:big", "f" + n, "v" + n);
            Run("SADD", "set:big", n);
            Run("ZADD", "zset:big", (i * 0.37).ToString(CultureInfo.InvariantCulture), "m" + n);
        }
        return [.. keys.Distinct()];
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

}
