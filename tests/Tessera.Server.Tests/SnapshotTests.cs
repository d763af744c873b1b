using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// RDB snapshots cross between redis-server and Tessera in both directions with equal DEBUG DIGESTs, functions
/// included; DEBUG RELOAD keeps the dataset; a damaged snapshot stops start-up.
/// </summary>
public sealed class SnapshotTests : DebugEnabledServers
{
    [Fact]
    public void A_redis_snapshot_loads_into_tessera_and_a_tessera_snapshot_into_redis()
    {
        using var redis = Redis.Connect();
        FillEveryEncoding(redis);
        redis.Call("SET", "with-ttl", "v", "EX", "10000");
        redis.Call("SELECT", "3");
        redis.Call("SET", "in-db-3", "x");
        redis.Call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('answer', function() return 42 end)");
        Assert.Equal("OK", redis.Call("SAVE").Text);
        var digest = redis.Call("DEBUG", "DIGEST").Text;

        // Into Tessera: same digest, same functions.
        var directory = Directory.CreateTempSubdirectory("tessera-snapshot-").FullName;
        try
        {
            File.Copy(Path.Combine(Redis.Directory, "dump.rdb"), Path.Combine(directory, "dump.rdb"));
            using (var node = new TesseraNode("--enable-debug-command", "yes", "--dir", directory))
            using (var tessera = node.Connect())
            {
                Assert.Equal(digest, tessera.Call("DEBUG", "DIGEST").Text);
                Assert.Equal(42, tessera.Call("FCALL", "answer", "0").Integer);
                Assert.InRange(tessera.Call("TTL", "with-ttl").Integer, 9000, 10000);
                tessera.Call("RPUSH", "written-by-tessera", "a", "b");
                Assert.Equal("OK", tessera.Call("SAVE").Text);
                digest = tessera.Call("DEBUG", "DIGEST").Text;
            }

            // And back into redis-server.
            using var reloaded = new RedisServerProcess("--enable-debug-command", "yes", "--dir", directory);
            using var client = reloaded.Connect();
            Assert.Equal(digest, client.Call("DEBUG", "DIGEST").Text);
            Assert.Equal(42, client.Call("FCALL", "answer", "0").Integer);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Debug_reload_keeps_the_dataset_and_save_resets_the_change_count()
    {
        using var tessera = Tessera.Connect();
        FillEveryEncoding(tessera);
        var digest = tessera.Call("DEBUG", "DIGEST").Text;
        Assert.Equal("OK", tessera.Call("DEBUG", "RELOAD").Text);
        Assert.Equal(digest, tessera.Call("DEBUG", "DIGEST").Text);
        var persistence = tessera.Call("INFO", "persistence").Text!;
        Assert.Contains("rdb_changes_since_last_save:0\r\n", persistence, StringComparison.Ordinal);
        Assert.Contains("rdb_saves:1\r\n", persistence, StringComparison.Ordinal);
        Assert.Contains("rdb_last_load_keys_loaded:", persistence, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Tessera.Directory, "dump.rdb")));
    }

    [Fact]
    public void A_damaged_snapshot_stops_start_up_and_leaves_the_file_alone()
    {
        using (var tessera = Tessera.Connect())
        {
            tessera.Call("SET", "k", "v");
            tessera.Call("SAVE");
        }
        var directory = Directory.CreateTempSubdirectory("tessera-snapshot-").FullName;
        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(Tessera.Directory, "dump.rdb"));
            bytes[^12] ^= 0xff;
            File.WriteAllBytes(Path.Combine(directory, "dump.rdb"), bytes);
            var error = Assert.Throws<IOException>(() => new TesseraNode("--dir", directory));
            Assert.Contains("Wrong RDB checksum", error.Message, StringComparison.Ordinal);
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(directory, "dump.rdb")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Shutdown_saves_the_final_snapshot_when_save_points_are_set_or_save_is_asked()
    {
        var directory = Directory.CreateTempSubdirectory("tessera-snapshot-").FullName;
        try
        {
            var file = Path.Combine(directory, "dump.rdb");
            foreach (var (options, command, saves) in new (string[] Options, string[] Command, bool Saves)[]
            {
                ([], ["SHUTDOWN"], false),
                (["--save", "3600 1"], ["SHUTDOWN", "NOSAVE"], false),
                ([], ["SHUTDOWN", "SAVE"], true),
                (["--save", "3600 1"], ["SHUTDOWN"], true),
            })
            {
                File.Delete(file);
                using var node = new TesseraNode([.. options, "--dir", directory]);
                using (var client = node.Connect())
                {
                    client.Call("SET", "k", string.Join(' ', command));
                    client.Send(command);
                    Assert.True(client.IsClosedByServer());
                }
                await node.Server.Stopped.WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(saves, File.Exists(file));
            }
            using var restarted = new TesseraNode("--dir", directory);
            using var reader = restarted.Connect();
            Assert.Equal("SHUTDOWN", reader.Call("GET", "k").Text);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void While_the_snapshot_loads_clients_get_loading_replies_and_progress()
    {
        // Filling and saving 1.5M keys takes seconds, more on a machine busy with the other test projects.
        using (var tessera = new RespClient(Tessera.Port, timeoutMs: 120_000))
        {
            tessera.Call("DEBUG", "POPULATE", "1500000");
            tessera.Call("SAVE");
        }
        var port = FreePort.Next();
        TesseraNode? node = null;
        var starting = new Thread(() => node = new TesseraNode("--dir", Tessera.Directory, "--port", port.ToString(CultureInfo.InvariantCulture)));
        starting.Start();
        try
        {
            RespClient? client = null;
            while (client is null && starting.IsAlive)
            {
                try
                {
                    client = new RespClient(port);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    Thread.Sleep(5);
                }
            }
            Assert.NotNull(client);
            using (client)
            {
                // Loading takes about a second: the first replies come while it runs.
                Assert.Equal("LOADING Redis is loading the dataset in memory", client.Call("GET", "key:1").Text);
                Assert.Contains("loading:1\r\n", client.Call("INFO", "persistence").Text, StringComparison.Ordinal);
                // As in Redis, even PING lacks the loading flag.
                Assert.Equal("LOADING Redis is loading the dataset in memory", client.Call("PING").Text);
                starting.Join();
                Assert.Equal("value:1", client.Call("GET", "key:1").Text);
                Assert.Equal(0, client.InfoField("persistence", "loading"));
            }
        }
        finally
        {
            starting.Join();
            node?.Dispose();
        }
    }
}
