using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// BGSAVE writes a point-in-time snapshot while clients keep writing (proved with a counter invariant that
/// every transaction keeps), answers as Redis does, and save points start it on their own.
/// </summary>
public sealed class BackgroundSaveTests
{
    private const int Counters = 1000;

    [Fact]
    public void Rdb_key_save_delay_slows_a_background_save_per_key_as_redis_test_option_does()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        for (var i = 0; i < 300; i++)
        {
            client.Send("SET", "key:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "v");
        }
        for (var i = 0; i < 300; i++)
        {
            client.Read();
        }
        client.Call("CONFIG", "SET", "rdb-key-save-delay", "1000");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        client.Call("BGSAVE");
        Assert.Equal(1, client.InfoField("persistence", "rdb_bgsave_in_progress"));
        Assert.True(client.WaitForInfo("persistence", "rdb_bgsave_in_progress", 0));
        Assert.InRange(clock.ElapsedMilliseconds, 250, 30000);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void A_background_save_is_a_consistent_point_in_time_while_writers_keep_going()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using (var client = node.Connect())
        {
            // Enough data that the save takes a while, so writes land in the middle of it.
            client.Call("DEBUG", "POPULATE", "300000");
            client.Call("SET", "total", "0");
        }
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(seed => new Thread(() => WriteInvariant(node.Port, seed, stop.Token))).ToList();
        writers.ForEach(w => w.Start());
        Thread.Sleep(100);
        using (var client = node.Connect())
        {
            Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
            Assert.True(client.WaitForInfo("persistence", "rdb_bgsave_in_progress", 0));
            stop.Cancel();
            writers.ForEach(w => w.Join());
            Assert.Equal(1, client.InfoField("persistence", "rdb_saves"));
            Assert.Contains("rdb_last_bgsave_status:ok", client.Call("INFO", "persistence").Text, StringComparison.Ordinal);
            // Writes reached slots before the save did: their old contents were serialized early.
            Assert.True(client.InfoField("persistence", "rdb_last_cow_size") > 0);
        }

        // The snapshot, loaded elsewhere, satisfies the invariant: it holds each transaction wholly or not at all.
        var directory = Directory.CreateTempSubdirectory("tessera-bgsave-").FullName;
        try
        {
            File.Copy(Path.Combine(node.Directory, "dump.rdb"), Path.Combine(directory, "dump.rdb"));
            using var loaded = new TesseraNode("--dir", directory);
            using var check = loaded.Connect();
            long sum = 0;
            for (var i = 0; i < Counters; i++)
            {
                var value = check.Call("GET", "counter:" + i.ToString(CultureInfo.InvariantCulture)).Text;
                sum += value is null ? 0 : long.Parse(value, CultureInfo.InvariantCulture);
            }
            var total = long.Parse(check.Call("GET", "total").Text!, CultureInfo.InvariantCulture);
            Assert.Equal(total, sum);
            Assert.True(total > 0);
            Assert.Equal(300000 + 1 + check.Call("EVAL", "return #redis.call('KEYS', 'counter:*')", "0").Integer, check.Call("DBSIZE").Integer);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Transactions that add one to a random counter and to the total: sum(counters) = total always.</summary>
    private static void WriteInvariant(int port, int seed, CancellationToken stop)
    {
        using var client = new RespClient(port);
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            client.Send("MULTI");
            client.Send("INCR", "counter:" + random.Next(Counters).ToString(CultureInfo.InvariantCulture));
            client.Send("INCR", "total");
            client.Send("EXEC");
            for (var i = 0; i < 4; i++)
            {
                client.Read();
            }
        }
    }

    [Fact]
    public void Bgsave_answers_as_redis_while_a_save_runs()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        Assert.Equal("ERR syntax error", client.Call("BGSAVE", "NOW").Text);
        client.Call("DEBUG", "POPULATE", "400000");
        var before = client.Call("LASTSAVE").Integer;
        Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
        Assert.Equal("ERR Background save already in progress", client.Call("BGSAVE").Text);
        Assert.Equal("ERR Background save already in progress", client.Call("BGSAVE", "SCHEDULE").Text);
        Assert.Equal("ERR Background save already in progress", client.Call("SAVE").Text);
        Assert.Equal(1, client.InfoField("persistence", "rdb_bgsave_in_progress"));
        Assert.True(client.WaitForInfo("persistence", "rdb_bgsave_in_progress", 0));
        Assert.Equal(0, client.InfoField("persistence", "rdb_changes_since_last_save"));
        Assert.True(client.Call("LASTSAVE").Integer >= before);

        // Inside a transaction a BGSAVE is scheduled, then started by the cron.
        client.Call("MULTI");
        client.Call("BGSAVE");
        Assert.Equal("Background saving scheduled", client.Call("EXEC").Items[0].Text);
        Assert.True(client.WaitForInfo("persistence", "rdb_saves", 2));
    }

    [Fact]
    public void A_save_point_starts_a_background_save_once_enough_changes_happened()
    {
        using var node = new TesseraNode("--save", "1 2");
        using var client = node.Connect();
        client.Call("SET", "a", "1");
        Thread.Sleep(1500);
        Assert.Equal(0, client.InfoField("persistence", "rdb_saves"));
        client.Call("SET", "b", "2");
        Assert.True(client.WaitForInfo("persistence", "rdb_saves", 1, timeoutMs: 10000));
        Assert.True(File.Exists(Path.Combine(node.Directory, "dump.rdb")));
        Assert.True(client.WaitForInfo("persistence", "rdb_changes_since_last_save", 0));
    }
}
