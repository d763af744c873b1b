using System.Diagnostics;
using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Cli.Tests;

/// <summary>The tessera executable as scripts use it: redis-server's command line, errors, signals, daemonize.</summary>
public class CliTests
{
    private static readonly string Tessera = Path.Combine(AppContext.BaseDirectory, "tessera.dll");

    private static ProcessStartInfo Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Tessera);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    /// <summary>Runs the tessera executable to its end (30 s at most): exit code, standard output, standard error.</summary>
    internal static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var process = Process.Start(Start(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task An_unknown_option_is_a_fatal_config_error_naming_it()
    {
        var (code, _, err) = await Run("server", "--port", "0", "--foo", "bar");
        Assert.Equal(1, code);
        Assert.Contains("*** FATAL CONFIG FILE ERROR", err, StringComparison.Ordinal);
        Assert.Contains(">>> 'foo \"bar\"'", err, StringComparison.Ordinal);
        Assert.Contains("Bad directive or wrong number of arguments", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_value_in_a_config_file_reports_its_line_and_the_reason()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "port 0\n# comment\nmaxmemory-policy bogus\n");
        var (code, _, err) = await Run("server", file);
        Assert.Equal(1, code);
        Assert.Contains("Reading the configuration file, at line 3", err, StringComparison.Ordinal);
        Assert.Contains("argument(s) must be one of the following: volatile-lru", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_rdb_passes_a_sound_snapshot_and_names_the_offset_of_a_truncated_one()
    {
        using var node = new TesseraNode();
        using (var client = node.Connect())
        {
            client.Call("RPUSH", "list", "a", "b");
            client.Call("SET", "string", "v", "EX", "100");
            client.Call("SAVE");
        }
        var snapshot = Path.Combine(node.Directory, "dump.rdb");
        var (code, output, _) = await Run("check-rdb", snapshot);
        Assert.Equal(0, code);
        Assert.Contains("RDB looks OK!", output, StringComparison.Ordinal);
        Assert.Contains("[info] 2 keys read", output, StringComparison.Ordinal);
        Assert.Contains("[info] 1 expires", output, StringComparison.Ordinal);

        var truncated = Path.Combine(node.Directory, "truncated.rdb");
        var bytes = File.ReadAllBytes(snapshot);
        File.WriteAllBytes(truncated, bytes[..^20]);
        (code, output, _) = await Run("check-rdb", truncated);
        Assert.Equal(1, code);
        Assert.Contains("--- RDB ERROR DETECTED ---", output, StringComparison.Ordinal);
        Assert.Contains("Unexpected EOF reading RDB file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_is_printed()
    {
        var (code, output, _) = await Run("--version");
        Assert.Equal(0, code);
        Assert.Contains("0.1.0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_shuts_the_node_down_cleanly_and_unimplemented_options_only_warn()
    {
        var port = FreePort.Next();
        using var process = Process.Start(Start("server", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--tls-replication", "yes"))!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var guard = new ProcessGuard(process);
        RedisServerProcess.WaitUntilReady(port);
        using (Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
        }
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, process.ExitCode);
        var log = await output;
        Assert.Contains("Option 'tls-replication' is recognised but not implemented", log, StringComparison.Ordinal);
        Assert.Contains("Received SIGTERM scheduling shutdown", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resident_memory_stays_within_15_percent_of_maxmemory_under_eviction()
    {
        var port = FreePort.Next();
        using var process = Process.Start(Start("server", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "",
            "--maxmemory", "150mb", "--maxmemory-policy", "allkeys-lru"))!;
        try
        {
            RedisServerProcess.WaitUntilReady(port);
            using var client = new RespClient(port);
            var value = new byte[1000];
            var batch = new MemoryStream();
            // 450 MB of writes into a 150 MB node, pipelined in batches of 500.
            for (var i = 0; i < 450_000; i++)
            {
                batch.Write(RespClient.Encode([System.Text.Encoding.ASCII.GetBytes("SET"), System.Text.Encoding.ASCII.GetBytes("key:" + i), value]));
                if (i % 500 == 499)
                {
                    client.SendRaw(batch.ToArray());
                    batch.SetLength(0);
                    for (var j = 0; j < 500; j++)
                    {
                        Assert.Equal("OK", client.Read().Text);
                    }
                }
            }
            await Task.Delay(1500);
            var rss = long.Parse(File.ReadAllLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            Assert.True(rss <= 150L * 1024 * 1024 * 115 / 100, $"RSS {rss / 1024 / 1024} MB over 150 MB * 1.15");
            Assert.True(client.Call("DBSIZE").Integer > 50_000);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Daemonize_returns_at_once_and_leaves_a_serving_node_with_a_pidfile()
    {
        var port = FreePort.Next();
        var dir = Directory.CreateTempSubdirectory("tessera-daemon").FullName;
        var pidfile = Path.Combine(dir, "tessera.pid");
        var logfile = Path.Combine(dir, "tessera.log");
        var (code, _, _) = await Run("server", "--port", port.ToString(CultureInfo.InvariantCulture), "--daemonize", "yes",
            "--pidfile", pidfile, "--logfile", logfile, "--save", "");
        Assert.Equal(0, code);
        RedisServerProcess.WaitUntilReady(port);
        var pid = int.Parse(File.ReadAllText(pidfile).Trim(), CultureInfo.InvariantCulture);
        using var daemon = Process.GetProcessById(pid);
        try
        {
            using (var client = new RespClient(port))
            {
                client.Send("SHUTDOWN");
            }
            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            // Never leave the daemon this test started running.
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }
        }
        Assert.Contains("Ready to accept connections", File.ReadAllText(logfile), StringComparison.Ordinal);
        Assert.False(File.Exists(pidfile));
    }
}
