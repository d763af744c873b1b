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
        var keys = FillEveryEncoding(redis);
        FillEveryEncoding(tessera);
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

    [Fact]
    public void Migrate_moves_keys_between_servers_in_both_directions_with_redis_replies()
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        var keys = FillEveryEncoding(tessera);
        tessera.Call("PEXPIRE", "string:raw", "100000");
        var digest = tessera.Call("DEBUG", "DIGEST").Text;
        var redisPort = Redis.Port.ToString(CultureInfo.InvariantCulture);
        var tesseraPort = Tessera.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Equal("OK", tessera.Call(["MIGRATE", "127.0.0.1", redisPort, "", "0", "5000", "KEYS", .. keys]).Text);
        Assert.Equal(0, tessera.Call("DBSIZE").Integer);
        Assert.Equal(digest, redis.Call("DEBUG", "DIGEST").Text);
        Assert.InRange(redis.Call("PTTL", "string:raw").Integer, 90000, 100000);
        Assert.Equal("OK", redis.Call(["MIGRATE", "127.0.0.1", tesseraPort, "", "0", "5000", "KEYS", .. keys]).Text);
        Assert.Equal(digest, tessera.Call("DEBUG", "DIGEST").Text);

        // The same situations give the same replies from both servers, each migrating to the other.
        var cases = new List<Func<RespClient, string, string>>
        {
            (c, port) => c.Call("MIGRATE", "127.0.0.1", port, "missing", "0", "1000").ToString(),
            (c, port) => c.Call("MIGRATE", "127.0.0.1", port, "k", "0", "1000", "KEYS", "a").ToString(),
            (c, port) => c.Call("MIGRATE", "127.0.0.1", port, "k", "0", "1000", "BOGUS").ToString(),
            (c, port) => c.Call("MIGRATE", "127.0.0.1", port, "k", "notanumber", "1000").ToString(),
            (c, port) =>
            {
                c.Call("SET", "dup", "here");
                return c.Call("MIGRATE", "127.0.0.1", port, "dup", "0", "1000").ToString() + c.Call("EXISTS", "dup");
            },
            (c, port) =>
            {
                c.Call("SET", "copied", "v");
                return c.Call("MIGRATE", "127.0.0.1", port, "copied", "3", "1000", "COPY").ToString() + c.Call("EXISTS", "copied");
            },
            (c, port) => c.Call("MIGRATE", "127.0.0.1", port, "copied", "3", "1000", "REPLACE", "AUTH", "nopass").ToString(),
            (c, _) => c.Call("MIGRATE", "127.0.0.1", "1", "copied", "0", "100").ToString(),
        };
        redis.Call("SET", "dup", "there");
        tessera.Call("SET", "dup", "there");
        foreach (var run in cases)
        {
            Assert.Equal(run(redis, tesseraPort), run(tessera, redisPort));
        }
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

}
