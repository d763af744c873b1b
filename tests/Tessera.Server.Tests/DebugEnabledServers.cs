using System.Globalization;
using Tessera.TestKit;

namespace Tessera.Server.Tests;

/// <summary>A redis-server and a Tessera node of the test's own, both with DEBUG enabled, for tests comparing digests.</summary>
public abstract class DebugEnabledServers : IDisposable
{
    protected RedisServerProcess Redis { get; } = new("--enable-debug-command", "yes");

    protected TesseraNode Tessera { get; } = new("--enable-debug-command", "yes");

    /// <summary>Every type in both its encodings, and strings in all three.</summary>
    internal static List<string> FillEveryEncoding(RespClient client)
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

    public void Dispose()
    {
        Redis.Dispose();
        Tessera.Dispose();
        GC.SuppressFinalize(this);
    }
}
