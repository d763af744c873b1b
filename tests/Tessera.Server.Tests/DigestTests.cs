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
        var keys = FillEveryEncoding(redis);
        FillEveryEncoding(tessera);
        foreach (var client in new[] { redis, tessera })
        {
            // TTLs and another database count too.
            client.Call("SET", "string:ttl", "v", "EX", "1000");
            client.Call("PEXPIRE", "hash:big", "99999999");
            client.Call("SELECT", "5");
            client.Call("SET", "other-db", "x");
            client.Call("SELECT", "0");
        }
        keys.Add("string:ttl");
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
}
