using Tessera.Server.Persistence.Aof;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// The multi-part AOF: every write (rewritten where Redis rewrites it) survives a restart, the files cross
/// between redis-server and Tessera both ways with equal DEBUG DIGESTs, a rewrite compacts them while writes
/// go on, a torn tail is cut off (or refused), and check-aof reports and fixes one.
/// </summary>
public sealed class AofTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-aof-").FullName;

    private string AofDirectory => Path.Combine(_directory, "appendonlydir");

    private string LastIncrement => Directory.GetFiles(AofDirectory, "*.incr.aof").OrderBy(f => f.Length).ThenBy(f => f, StringComparer.Ordinal).Last();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TesseraNode StartTessera(params string[] options)
        => new(["--dir", _directory, "--appendonly", "yes", "--enable-debug-command", "yes", .. options]);

    /// <summary>Writes of every type, and the commands whose effects are propagated instead of themselves.</summary>
    private static void WriteEverything(RespClient client)
    {
        DebugEnabledServers.FillEveryEncoding(client);
        client.Call("SADD", "popped", "a", "b", "c", "d", "e");
        client.Call("SPOP", "popped");
        client.Call("SPOP", "popped", "2");
        client.Call("SET", "with-ttl", "v", "EX", "1000");
        client.Call("SETEX", "setex", "1000", "v");
        client.Call("SET", "expire-me", "v");
        client.Call("EXPIRE", "expire-me", "5000");
        client.Call("SET", "gone", "v");
        client.Call("PEXPIREAT", "gone", "1");
        client.Call("INCRBYFLOAT", "float", "1.1");
        client.Call("INCRBYFLOAT", "float", "2.25");
        client.Call("HINCRBYFLOAT", "hfloat", "f", "0.5");
        client.Call("EVAL", "redis.call('SET', 'from-script', '1'); redis.call('INCR', 'from-script'); return 1", "0");
        client.Call("MULTI");
        client.Call("RPUSH", "queue", "1", "2", "3", "4");
        client.Call("LPUSH", "queue", "0");
        client.Call("EXEC");
        client.Call("BLPOP", "empty", "queue", "1");
        client.Call("LMPOP", "2", "empty", "queue", "RIGHT", "COUNT", "2");
        client.Call("ZADD", "z", "1", "a", "2", "b", "3", "c");
        client.Call("BZPOPMIN", "z", "1");
        client.Call("BLMOVE", "queue", "moved", "LEFT", "RIGHT", "1");
        client.Call("GETEX", "string:embstr", "PX", "900000");
        client.Call("SELECT", "5");
        client.Call("SET", "in-db-5", "x");
        client.Call("SELECT", "0");
        client.Call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('answer', function() return 42 end)");
    }

    /// <summary>
    /// What Redis's suite reads from the stream: MULTI/EXEC preceded by its SELECT, keys lazily expired by SCAN and
    /// RANDOMKEY propagated as plain DELs (those commands touch arbitrary keys), GETDEL as DEL. Both servers write
    /// the same increment, but for the absolute expiry times in it.
    /// </summary>
    [Fact]
    public void Transactions_lazy_expiry_and_getdel_propagate_as_redis_propagates_them()
    {
        var redisDirectory = Directory.CreateTempSubdirectory("tessera-aof-redis-").FullName;
        try
        {
            using var redis = new RedisServerProcess("--dir", redisDirectory, "--appendonly", "yes", "--enable-debug-command", "yes");
            using var tessera = StartTessera();
            foreach (var client in new[] { redis.Connect(), tessera.Connect() })
            {
                using (client)
                {
                    client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
                    // One expired key per lazy expiry that is compared: which of several SCAN meets first follows
                    // redis-server's hash order, which changes from run to run.
                    foreach (var command in new[] { "SELECT 9", "MULTI", "SET a 1", "SET b 2", "EXEC", "SET k1 v PX 1", "SET k2 v PX 1",
                        "GETDEL a", "SELECT 0", "SET z 1", "SELECT 9", "DEBUG SLEEP 0.01", "GET k1", "SCAN 0", "SELECT 8", "SET k3 v PX 1",
                        "DEBUG SLEEP 0.01", "RANDOMKEY", "SELECT 9", "MULTI", "SET c 3", "SELECT 0", "SET d 4", "EXEC", "SELECT 9", "MULTI",
                        "EXEC", "MULTI", "GET c", "EXEC" })
                    {
                        client.Call(command.Split(' '));
                    }
                }
            }
            var increments = new[] { Path.Combine(redisDirectory, "appendonlydir"), AofDirectory }
                .Select(d => System.Text.RegularExpressions.Regex.Replace(
                    File.ReadAllText(Directory.GetFiles(d, "*.incr.aof").Single()), @"\b\d{13}\b", "<time>"))
                .ToList();
            Assert.Equal(increments[0], increments[1]);
            Assert.Contains("SELECT\r\n$1\r\n9\r\n*1\r\n$5\r\nMULTI", increments[1]);
        }
        finally
        {
            Directory.Delete(redisDirectory, recursive: true);
        }
    }

    [Fact]
    public void Every_write_survives_a_restart_and_the_files_load_into_redis()
    {
        string digest;
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            WriteEverything(client);
            digest = client.Call("DEBUG", "DIGEST").Text!;
        }
        Assert.True(File.Exists(Path.Combine(AofDirectory, "appendonly.aof.manifest")));
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            Assert.Equal(digest, client.Call("DEBUG", "DIGEST").Text);
            Assert.Equal(42, client.Call("FCALL", "answer", "0").Integer);
            Assert.Equal(1, client.InfoField("persistence", "aof_enabled"));
        }
        using var redis = new RedisServerProcess("--dir", _directory, "--appendonly", "yes", "--enable-debug-command", "yes");
        using var check = redis.Connect();
        Assert.Equal(digest, check.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void A_redis_aof_loads_into_tessera()
    {
        string digest;
        using (var redis = new RedisServerProcess("--dir", _directory, "--appendonly", "yes", "--enable-debug-command", "yes"))
        using (var client = redis.Connect())
        {
            // Redis writes its base in the background at start-up: wait for it, so the files are complete.
            Assert.True(client.WaitForInfo("persistence", "aof_rewrite_in_progress", 0));
            WriteEverything(client);
            digest = client.Call("DEBUG", "DIGEST").Text!;
            // Shut down, not killed: with everysec redis-server may hold back its last writes while an fsync runs.
            client.Send("SHUTDOWN", "NOSAVE");
            Assert.True(client.IsClosedByServer(30000));
        }
        using var node = StartTessera();
        using var check = node.Connect();
        Assert.Equal(digest, check.Call("DEBUG", "DIGEST").Text);
    }

    [Theory]
    [InlineData("yes", "rdb")]
    [InlineData("no", "aof")]
    public void A_rewrite_compacts_the_files_while_writes_go_on(string preamble, string baseExtension)
    {
        string digest;
        using (var node = StartTessera("--aof-use-rdb-preamble", preamble))
        using (var client = node.Connect())
        {
            WriteEverything(client);
            client.Call("DEBUG", "POPULATE", "50000");
            Assert.Equal("Background append only file rewriting started", client.Call("BGREWRITEAOF").Text);
            for (var i = 0; i < 2000; i++)
            {
                client.Call("INCR", "during-rewrite");
            }
            Assert.True(client.WaitForInfo("persistence", "aof_rewrite_in_progress", 0));
            Assert.Equal(1, client.InfoField("persistence", "aof_rewrites"));
            client.Call("RPUSH", "after-rewrite", "x");
            digest = client.Call("DEBUG", "DIGEST").Text!;
        }
        var manifest = File.ReadAllText(Path.Combine(AofDirectory, "appendonly.aof.manifest"));
        Assert.Matches($"^file appendonly\\.aof\\.2\\.base\\.{baseExtension} seq 2 type b\nfile appendonly\\.aof\\.2\\.incr\\.aof seq 2 type i\n$", manifest);
        Assert.Equal(3, Directory.GetFiles(AofDirectory).Length);
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            Assert.Equal(digest, client.Call("DEBUG", "DIGEST").Text);
        }
        using var redis = new RedisServerProcess("--dir", _directory, "--appendonly", "yes", "--enable-debug-command", "yes");
        using var check = redis.Connect();
        Assert.Equal(digest, check.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void A_torn_tail_is_cut_off_on_load_unless_aof_load_truncated_is_no()
    {
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            client.Call("SET", "kept", "1");
        }
        var file = LastIncrement;
        var sound = new FileInfo(file).Length;
        File.AppendAllText(file, "*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$1");

        var refused = Assert.Throws<IOException>(() => StartTessera("--aof-load-truncated", "no"));
        Assert.Contains("Unexpected end of file reading the append only file", refused.Message, StringComparison.Ordinal);

        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            Assert.Equal("1", client.Call("GET", "kept").Text);
            Assert.Equal(0, client.Call("EXISTS", "torn").Integer);
        }
        Assert.Equal(sound, new FileInfo(file).Length);
    }

    [Fact]
    public void A_transaction_without_its_exec_at_the_end_is_dropped()
    {
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            client.Call("SET", "kept", "1");
        }
        var file = LastIncrement;
        var sound = new FileInfo(file).Length;
        File.AppendAllText(file, "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n");
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            Assert.Equal("1", client.Call("GET", "kept").Text);
            Assert.Equal(0, client.Call("EXISTS", "half").Integer);
        }
        Assert.Equal(sound, new FileInfo(file).Length);
    }

    [Fact]
    public void Garbage_inside_the_aof_stops_start_up()
    {
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            client.Call("SET", "a", "1");
        }
        File.AppendAllText(LastIncrement, "garbage\r\n*1\r\n$4\r\nPING\r\n");
        var refused = Assert.Throws<IOException>(() => StartTessera());
        Assert.Contains("Bad file format reading the append only file", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timestamp_annotations_are_written_and_skipped_on_load()
    {
        using (var node = StartTessera("--aof-timestamp-enabled", "yes"))
        using (var client = node.Connect())
        {
            client.Call("SET", "a", "1");
        }
        Assert.StartsWith("#TS:", File.ReadAllText(LastIncrement), StringComparison.Ordinal);
        using var restarted = StartTessera();
        using var check = restarted.Connect();
        Assert.Equal("1", check.Call("GET", "a").Text);
    }

    [Fact]
    public void Config_set_appendonly_yes_writes_the_current_data_into_a_new_aof()
    {
        string digest;
        using (var node = new TesseraNode("--dir", _directory, "--enable-debug-command", "yes"))
        using (var client = node.Connect())
        {
            WriteEverything(client);
            Assert.Equal("OK", client.Call("CONFIG", "SET", "appendonly", "yes").Text);
            Assert.True(client.WaitForInfo("persistence", "aof_rewrite_in_progress", 0));
            client.Call("SET", "after", "enabling");
            digest = client.Call("DEBUG", "DIGEST").Text!;
        }
        using var restarted = StartTessera();
        using var check = restarted.Connect();
        Assert.Equal(digest, check.Call("DEBUG", "DIGEST").Text);
    }

    [Fact]
    public void Check_aof_reports_a_torn_tail_and_fixes_it_keeping_a_backup()
    {
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            client.Call("SET", "a", "1");
        }
        var manifest = Path.Combine(AofDirectory, "appendonly.aof.manifest");
        var report = new StringWriter();
        Assert.True(AofCheck.Run(manifest, fix: false, report));
        Assert.Contains("All AOF files and manifest are valid", report.ToString(), StringComparison.Ordinal);

        var file = LastIncrement;
        var original = File.ReadAllBytes(file);
        File.AppendAllText(file, "*2\r\n$3\r\nDEL");
        report = new StringWriter();
        Assert.False(AofCheck.Run(manifest, fix: false, report));
        Assert.Contains($"ok_up_to={original.Length}, diff=11", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("is not valid. Use the --fix option to try fixing it.", report.ToString(), StringComparison.Ordinal);

        report = new StringWriter();
        Assert.True(AofCheck.Run(manifest, fix: true, report));
        Assert.Equal(original, File.ReadAllBytes(file));
        Assert.Equal(original.Length + 11, new FileInfo(file + ".bak").Length);
        Assert.True(AofCheck.Run(file, fix: false, new StringWriter()));
        Assert.Contains("Successfully truncated", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_file_aof_of_redis_6_moves_into_the_directory_as_the_base()
    {
        // An RDB preamble followed by commands, as Redis 6 wrote appendonly.aof.
        using (var node = new TesseraNode("--dir", _directory))
        using (var client = node.Connect())
        {
            client.Call("SET", "from-preamble", "1");
            client.Call("SAVE");
        }
        using (var file = new FileStream(Path.Combine(_directory, "appendonly.aof"), FileMode.Create))
        {
            file.Write(File.ReadAllBytes(Path.Combine(_directory, "dump.rdb")));
            file.Write(RespClient.Encode("RPUSH", "from-commands", "x", "y"));
        }
        File.Delete(Path.Combine(_directory, "dump.rdb"));
        for (var start = 0; start < 2; start++)
        {
            using var node = StartTessera();
            using var client = node.Connect();
            Assert.Equal("1", client.Call("GET", "from-preamble").Text);
            Assert.Equal(2, client.Call("LLEN", "from-commands").Integer);
        }
        Assert.StartsWith("file appendonly.aof seq 1 type b\n", File.ReadAllText(Path.Combine(AofDirectory, "appendonly.aof.manifest")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "appendonly.aof")));
    }

    [Fact]
    public void Flushall_with_save_points_writes_the_empty_snapshot_and_still_reaches_the_aof()
    {
        using (var node = StartTessera("--save", "3600 1"))
        using (var client = node.Connect())
        {
            client.Call("SET", "a", "1");
            Assert.Equal("OK", client.Call("FLUSHALL").Text);
            Assert.Equal(1, client.InfoField("persistence", "rdb_changes_since_last_save"));
            Assert.True(File.Exists(Path.Combine(_directory, "dump.rdb")));
        }
        using var restarted = StartTessera();
        using var check = restarted.Connect();
        Assert.Equal(0, check.Call("DBSIZE").Integer);
    }

    [Fact]
    public void The_aof_is_rewritten_on_its_own_once_it_doubled_past_the_minimum_size()
    {
        using var node = StartTessera("--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", "100");
        using var client = node.Connect();
        var value = new string('v', 1000);
        for (var i = 0; i < 100; i++)
        {
            client.Call("SET", "same-key", value);
        }
        Assert.True(client.WaitForInfo("persistence", "aof_rewrites", 1, timeoutMs: 10000));
        Assert.True(client.WaitForInfo("persistence", "aof_rewrite_in_progress", 0));
        // The rewrite folded a hundred SETs into one key of the base.
        Assert.True(client.InfoField("persistence", "aof_base_size") < 16 * 1024);
    }

    [Fact]
    public void With_appendonly_yes_the_aof_wins_over_the_snapshot()
    {
        using (var node = new TesseraNode("--dir", _directory))
        using (var client = node.Connect())
        {
            client.Call("SET", "in-snapshot", "1");
            client.Call("SAVE");
        }
        // No AOF yet: Redis 7 starts empty rather than from the snapshot, and writes its first base.
        using (var node = StartTessera())
        using (var client = node.Connect())
        {
            Assert.Equal(0, client.Call("DBSIZE").Integer);
            client.Call("SET", "in-aof", "1");
        }
        using var restarted = StartTessera();
        using var check = restarted.Connect();
        Assert.Equal(0, check.Call("EXISTS", "in-snapshot").Integer);
        Assert.Equal(1, check.Call("EXISTS", "in-aof").Integer);
    }
}
