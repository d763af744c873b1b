using System.Diagnostics;

namespace Tessera.TestKit;

/// <summary>
/// A real redis-server (the Debian package) on a free loopback port: the oracle that Tessera's replies are
/// compared with. Stopped by killing the process it started, by PID.
/// </summary>
public sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;

    public RedisServerProcess(params string[] options)
        : this(FreePort.Next(), options)
    {
    }

    private RedisServerProcess(int port, string[] options)
    {
        Port = port;
        Directory = Path.Combine(Path.GetTempPath(), "redis-oracle-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var executable = Find("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed; run ./test.sh, which installs it (apt-get install redis-server)");
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", Directory }.Concat(options))
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            WaitUntilReady(Port);
        }
        catch
        {
            // A server that never answers (bad options, a password set at start) must not outlive the test.
            _process.Kill();
            _process.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
            throw;
        }
    }

    public int Port { get; }

    /// <summary>A redis-server on a given port: a backend started again where a proxy expects it.</summary>
    public static RedisServerProcess OnPort(int port, params string[] options) => new(port, options);

    /// <summary>The process's own working directory (its dump.rdb goes here), removed on disposal.</summary>
    public string Directory { get; }

    public RespClient Connect() => new(Port);

    /// <summary>SIGSTOP: the server stops reading and answering (a hung host), until <see cref="Continue"/>.</summary>
    public void Stop() => Signals.Send(_process.Id, Signals.Stop);

    /// <summary>SIGCONT after <see cref="Stop"/>.</summary>
    public void Continue() => Signals.Send(_process.Id, Signals.Cont);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Full path of an executable on PATH, or null.</summary>
    public static string? Find(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    /// <summary>Waits until something answers PING on <paramref name="port"/>.</summary>
    public static void WaitUntilReady(int port, int timeoutMs = 10000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new RespClient(port, timeoutMs: 1000);
                if (client.Call("PING").Text == "PONG")
                {
                    return;
                }
                if (clock.ElapsedMilliseconds > timeoutMs)
                {
                    throw new TimeoutException($"the server on port {port} did not become ready");
                }
            }
            catch (Exception) when (clock.ElapsedMilliseconds < timeoutMs)
            {
                Thread.Sleep(20);
            }
        }
    }
}
