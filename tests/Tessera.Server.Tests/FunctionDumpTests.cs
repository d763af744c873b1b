using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>FUNCTION DUMP payloads move between redis-server and Tessera in both directions.</summary>
[Collection(OracleCollection.Name)]
public class FunctionDumpTests(OracleFixture fixture)
{
    private const string Greeter = "#!lua name=greeter\nlocal function hello(keys, args) return 'hello ' .. (args[1] or '') end\n"
        + "redis.register_function('hello', hello)\nredis.register_function{function_name='hello_ro', callback=hello, flags={'no-writes'}}";

    private const string Counter = "#!lua name=counter\nredis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)";

    [Fact]
    public void A_redis_dump_restores_into_tessera_and_back()
    {
        using var redis = fixture.Redis.Connect();
        using var tessera = fixture.Tessera.Connect();
        try
        {
            foreach (var server in new[] { redis, tessera })
            {
                server.Call("FUNCTION", "FLUSH");
            }
            redis.Call("FUNCTION", "LOAD", Greeter);
            redis.Call("FUNCTION", "LOAD", Counter);
            var fromRedis = redis.CallBulk("FUNCTION", "DUMP");

            Assert.Equal("OK", tessera.Call([Encoding.ASCII.GetBytes("FUNCTION"), Encoding.ASCII.GetBytes("RESTORE"), fromRedis]).Text);
            Assert.Equal(Libraries(redis), Libraries(tessera));
            Assert.Equal("hello you", tessera.Call("FCALL_RO", "hello_ro", "0", "you").Text);

            // A second APPEND collides; REPLACE swaps; FLUSH starts over. Errors leave the libraries as they were.
            var restore = (byte[] payload, string policy) => tessera.Call([Encoding.ASCII.GetBytes("FUNCTION"), Encoding.ASCII.GetBytes("RESTORE"), payload, Encoding.ASCII.GetBytes(policy)]).Text;
            var redisRestore = (byte[] payload, string policy) => redis.Call([Encoding.ASCII.GetBytes("FUNCTION"), Encoding.ASCII.GetBytes("RESTORE"), payload, Encoding.ASCII.GetBytes(policy)]).Text;
            // Which of the two colliding libraries is named depends on Redis's hash order.
            foreach (var refusal in new[] { redisRestore(fromRedis, "APPEND"), restore(fromRedis, "APPEND") })
            {
                Assert.Matches("^ERR Library (greeter|counter) already exists$", refusal);
            }
            Assert.Equal(Libraries(redis), Libraries(tessera));
            Assert.Equal("OK", restore(fromRedis, "REPLACE"));
            var corrupt = (byte[])fromRedis.Clone();
            corrupt[5] ^= 1;
            Assert.Equal(redisRestore(corrupt, "FLUSH"), restore(corrupt, "FLUSH"));

            var fromTessera = tessera.CallBulk("FUNCTION", "DUMP");
            redis.Call("FUNCTION", "FLUSH");
            Assert.Equal("OK", redisRestore(fromTessera, "FLUSH"));
            Assert.Equal(Libraries(tessera), Libraries(redis));
            Assert.Equal(1, redis.Call("FCALL", "bump", "1", "fn:counter").Integer);
        }
        finally
        {
            redis.Call("FUNCTION", "FLUSH");
            tessera.Call("FUNCTION", "FLUSH");
            redis.Call("DEL", "fn:counter");
        }
    }

    /// <summary>
    /// FUNCTION LIST WITHCODE as "name, functions, code" per library, sorted (Redis lists libraries and functions
    /// in hash order).
    /// </summary>
    private static List<string> Libraries(RespClient client)
        => [.. client.Call("FUNCTION", "LIST", "WITHCODE").Items.Select(library =>
        {
            var fields = library.Items.Chunk(2).ToDictionary(p => p[0].Text!, p => p[1]);
            var functions = fields["functions"].Items.Select(f => f.ToString()).Order(StringComparer.Ordinal);
            return $"{fields["library_name"].Text}, [{string.Join(", ", functions)}], {fields["library_code"].Text}";
        }).Order(StringComparer.Ordinal)];
}
