using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// WATCH on keys that expired but were not deleted yet ("stale"), with active expiry off, as Redis's multi.tcl
/// checks it: deleting, flushing or swapping such a key is no logical change, and EXEC goes through, on Tessera
/// as on redis-server (every reply compared).
/// </summary>
public sealed class WatchStaleKeyTests : DebugEnabledServers
{
    public static TheoryData<string, string[]> Scenarios() => new()
    {
        { "watch a stale key", ["SET x foo PX 1", "SLEEP", "WATCH x", "MULTI", "PING", "EXEC"] },
        { "delete a watched stale key", ["SET x foo PX 1", "SLEEP", "WATCH x", "EXISTS x", "MULTI", "PING", "EXEC"] },
        { "flushdb over a stale key", ["SET x foo PX 1", "SLEEP", "WATCH x", "FLUSHDB", "MULTI", "PING", "EXEC"] },
        { "flushdb over a live key", ["SET x foo", "WATCH x", "FLUSHDB", "MULTI", "PING", "EXEC"] },
        { "swapdb: stale key replaced with none", ["SELECT 1", "SET x foo PX 1", "SLEEP", "WATCH x", "SWAPDB 0 1", "MULTI", "PING", "EXEC"] },
        { "swapdb: none replaced with a stale key", ["SET x foo PX 1", "SLEEP", "SELECT 1", "WATCH x", "SWAPDB 0 1", "MULTI", "PING", "EXEC"] },
        { "swapdb: stale key replaced with a stale key", ["SET x foo PX 1", "SELECT 1", "SET x bar PX 1", "SLEEP", "WATCH x", "SWAPDB 0 1", "MULTI", "PING", "EXEC"] },
        { "swapdb: stale key replaced with a live key", ["SET x foo", "SELECT 1", "SET x bar PX 1", "SLEEP", "WATCH x", "SWAPDB 0 1", "MULTI", "PING", "EXEC"] },
        { "swapdb: none replaced with a live key", ["SET x foo", "SELECT 1", "WATCH x", "SWAPDB 0 1", "MULTI", "PING", "EXEC"] },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Exec_after_watching_a_stale_key_answers_as_redis(string scenario, string[] steps)
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        foreach (var client in new[] { redis, tessera })
        {
            client.Call("FLUSHALL");
            client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        }
        try
        {
            foreach (var step in steps)
            {
                if (step == "SLEEP")
                {
                    Thread.Sleep(5);
                    continue;
                }
                var args = step.Split(' ');
                Assert.True(redis.Call(args).ToString() == tessera.Call(args).ToString(), $"{scenario}: {step}");
            }
        }
        finally
        {
            foreach (var client in new[] { redis, tessera })
            {
                client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
                client.Call("SELECT", "0");
            }
        }
    }

    [Fact]
    public void A_watched_key_that_expires_actively_fails_exec()
    {
        using var tessera = Tessera.Connect();
        tessera.Call("SET", "x", "foo", "PX", "50");
        tessera.Call("WATCH", "x");
        Assert.True(SpinWait.SpinUntil(() => tessera.Call("DBSIZE").Integer == 0, 5000));
        tessera.Call("MULTI");
        tessera.Call("PING");
        Assert.True(tessera.Call("EXEC").IsNull);
    }
}
