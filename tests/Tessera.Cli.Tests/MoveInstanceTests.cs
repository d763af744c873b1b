using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cli.Tests;

/// <summary>
/// <c>tessera move-instance</c>: an instance moves to another server while a client keeps writing; every write the
/// old instance acknowledged is on the new one, and the write pause is reported.
/// </summary>
public sealed class MoveInstanceTests
{
    [Fact]
    public async Task A_redis_instance_moves_into_tessera_under_writes_without_losing_one()
    {
        using var redis = new RedisServerProcess("--repl-diskless-sync-delay", "0");
        using (var seed = redis.Connect())
        {
            for (var i = 0; i < 20; i++)
            {
                seed.Call("RPUSH", "list", i.ToString(CultureInfo.InvariantCulture));
            }
        }
        using var node = new TesseraNode();
        long acknowledged = 0;
        var writer = new Thread(() => acknowledged = Workloads.IncrementUntilRefused(redis.Port, CancellationToken.None));
        writer.Start();
        Thread.Sleep(200);

        var (code, output) = await Run("move-instance", "--from", "127.0.0.1:" + redis.Port.ToString(CultureInfo.InvariantCulture),
            "--to", "127.0.0.1:" + node.Port.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, output);
        Assert.True(writer.Join(10_000), "the old instance still took writes after the move");

        using var moved = node.Connect();
        Assert.Equal("master", moved.Call("ROLE").Items[0].Text);
        Assert.True(acknowledged > 0);
        Assert.Equal(acknowledged.ToString(CultureInfo.InvariantCulture), moved.Call("GET", "counter").Text);
        Assert.Equal(20, moved.Call("LLEN", "list").Integer);
        Assert.Matches(@"writes were paused for \d+\.\d ms", output);
        using var old = redis.Connect();
        Assert.Equal("slave", old.Call("ROLE").Items[0].Text);
    }

    [Fact]
    public async Task A_move_to_an_instance_that_holds_keys_is_refused()
    {
        using var from = new TesseraNode();
        using var to = new TesseraNode();
        using (var client = to.Connect())
        {
            client.Call("SET", "precious", "1");
        }
        var (code, output) = await Run("move-instance", "--from", "127.0.0.1:" + from.Port.ToString(CultureInfo.InvariantCulture),
            "--to", "127.0.0.1:" + to.Port.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.Contains("holds keys", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> Run(params string[] args)
    {
        var (code, output, error) = await CliTests.Run(args);
        return (code, output + error);
    }
}
