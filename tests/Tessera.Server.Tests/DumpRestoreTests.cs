using System.Text;
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

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

}
