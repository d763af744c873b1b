using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace Tessera.TestKit;

/// <summary>
/// A proxy process on a nutcracker YAML file: Tessera's (<c>tessera proxy</c>) or nutcracker 0.5.0 itself (the
/// Debian package, the placement oracle). Its log lines are kept for tests that read them; it is killed by PID.
/// </summary>
public sealed class ProxyProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private ProxyProcess(string executable, IEnumerable<string> args, IEnumerable<int> ports)
    {
        var start = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        foreach (var port in ports)
        {
            WaitForListener(port);
        }
    }

    public int Pid => _process.Id;

    /// <summary>What the process logged so far.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary><c>tessera proxy -c <paramref name="configPath"/></c>, ready once every port in <paramref name="ports"/> accepts.</summary>
    public static ProxyProcess Tessera(string configPath, int statsPort, params int[] ports) =>
        new("dotnet", [TesseraProcess.Executable, "proxy", "-c", configPath, "-s", statsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", "127.0.0.1"], ports);

    /// <summary>nutcracker on the same kind of file (apt-get install nutcracker; ./test.sh installs it).</summary>
    public static ProxyProcess Nutcracker(string configPath, int statsPort, params int[] ports)
    {
        var executable = RedisServerProcess.Find("nutcracker") ?? (File.Exists("/usr/sbin/nutcracker") ? "/usr/sbin/nutcracker" : null)
            ?? throw new InvalidOperationException("nutcracker is not installed; run ./test.sh, which installs it (apt-get install nutcracker)");
        return new(executable, ["-c", configPath, "-s", statsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", "127.0.0.1"], ports);
    }

    /// <summary>Sends SIGHUP (Tessera's proxy reloads its configuration).</summary>
    public void Hangup() => Signals.Send(_process.Id, Signals.Hangup);

    /// <summary>Waits until a log line contains <paramref name="text"/>.</summary>
    public bool WaitForLog(string text, int timeoutMs = 10000)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < timeoutMs)
        {
            if (_log.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _log.Enqueue(line);
        }
    }

    private void WaitForListener(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (clock.ElapsedMilliseconds < 30000 && !_process.HasExited)
            {
                Thread.Sleep(20);
            }
            catch (SocketException)
            {
                throw new TimeoutException($"the proxy did not listen on port {port}: {Log}");
            }
        }
    }
}
