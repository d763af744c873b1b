using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// DEBUG DIGEST and DEBUG DIGEST-VALUE give redis-server's digests for the same data, in every type and encoding,
/// so later tests can compare whole datasets across servers, saves and reloads.
/// </summary>
public sealed class DigestTests : DebugEnabledServers
{
    [Fact]
    public void Digests_match_redis_for_every_type_and_encoding()
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        Assert.Equal(new string('0', 40), tessera.Call("DEBUG", "DIGEST").Text);
        var keys = new List<string>();
        foreach (var client in new[] { redis, tessera })
        {
            Fill(client, keys);
        }
        Assert.Equal(redis.Call("DEBUG", "DIGEST").Text, tessera.Call("DEBUG", "DIGEST").Text);
        string[] digestValue = ["DEBUG", "DIGEST-VALUE", .. keys.Distinct(), "missing"];
        Assert.Equal(redis.Call(digestValue).ToString(), tessera.Call(digestValue).ToString());

        // A change anywhere changes the digest; the same change on both keeps them equal.
        var before = tessera.Call("DEBUG", "DIGEST").Text;
        foreach (var client in new[] { redis, tessera })
        {
            client.Call("HSET", "hash:big", "f7", "changed");
        }
        Assert.NotEqual(before, tessera.Call("DEBUG", "DIGEST").Text);
        Assert.Equal(redis.Call("DEBUG", "DIGEST").Text, tessera.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void Digests_match_redis_after_random_command_sequences()
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        for (var seed = 1; seed <= 3; seed++)
        {
            var generator = new CommandGenerator(new Random(seed));
            for (var step = 0; step < 1500; step++)
            {
                var (args, _) = generator.Next();
                redis.Send(args);
                tessera.Send(args);
                redis.ReadRaw();
                tessera.ReadRaw();
            }
            if (generator.InMulti)
            {
                redis.Call("DISCARD");
                tessera.Call("DISCARD");
            }
            Assert.Equal(redis.Call("DBSIZE").Integer, tessera.Call("DBSIZE").Integer);
            Assert.Equal(redis.Call("DEBUG", "DIGEST").Text, tessera.Call("DEBUG", "DIGEST").Text);
        }
    }

    /// <summary>Small and large values of every type (so both encodings of each), TTLs, and a second database.</summary>
    private static void Fill(RespClient client, List<string> keys)
    {
        void Run(params string[] args)
        {
            client.Call(args);
            keys.Add(args[1]);
        }
        Run("SET", "string:raw", "hello");
        Run("SET", "string:int", "12345");
        Run("SET", "string:ttl", "v", "EX", "1000");
        Run("RPUSH", "list:small", "a", "1", "b");
        Run("HSET", "hash:small", "f", "v", "g", "1");
        Run("SADD", "set:ints", "3", "1", "2");
        Run("SADD", "set:strings", "a", "b", "c");
        Run("ZADD", "zset:small", "0.1", "a", "1", "b", "-inf", "c", "1e21", "d");
        for (var i = 0; i < 300; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            Run("RPUSH", "list:big", new string('x', i % 50) + n);
            Run("HSET", "hash:big", "f" + n, "v" + n);
            Run("SADD", "set:big", n);
            Run("ZADD", "zset:big", (i * 0.37).ToString(CultureInfo.InvariantCulture), "m" + n);
        }
        Run("PEXPIRE", "hash:big", "99999999");
        client.Call("SELECT", "5");
        client.Call("SET", "other-db", "x");
        client.Call("SELECT", "0");
    }
}
