using System.Diagnostics;
using System.Globalization;

namespace Tessera.TestKit;

/// <summary>
/// The tessera executable as a process of its own on a loopback port, for tests that kill it (SIGKILL) and start
/// it again on the same directory. The test project must reference Tessera.Cli, which puts tessera.dll next to it.
/// </summary>
public sealed class TesseraProcess : IDisposable
{
    /// <summary>tessera.dll next to the test binaries (run with dotnet).</summary>
    public static readonly string Executable = Path.Combine(AppContext.BaseDirectory, "tessera.dll");

    private readonly string[] _options;
    private readonly IReadOnlyDictionary<string, string>? _environment;
    private Process _process;

    /// <summary>Starts <c>tessera server</c> in <paramref name="directory"/> with redis-server style options.</summary>
    public TesseraProcess(string directory, params string[] options)
        : this(directory, null, options)
    {
    }

    /// <summary>As the other constructor, with environment variables for the process (DOTNET_GCHeapHardLimit ...).</summary>
    public TesseraProcess(string directory, IReadOnlyDictionary<string, string>? environment, params string[] options)
    {
        Directory = directory;
        Port = options.Contains("--cluster-enabled") ? FreePort.ForCluster() : FreePort.Next();
        _options = options;
        _environment = environment;
        _process = Start();
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>True once the process has ended (killed, or crashed).</summary>
    public bool HasExited => _process.HasExited;

    public RespClient Connect() => new(Port);

    /// <summary>Waits until the node answers PING (its data may still be loading).</summary>
    public void WaitUntilReady() => RedisServerProcess.WaitUntilReady(Port, timeoutMs: 30000);

    /// <summary>kill -9: the process ends at once, with nothing saved or flushed.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>SIGSTOP: the process stays, unable to answer, until <see cref="Continue"/>.</summary>
    public void Stop() => Signals.Send(_process.Id, Signals.Stop);

    public void Continue() => Signals.Send(_process.Id, Signals.Cont);

    /// <summary>Starts the process again on the same port and directory (after <see cref="Kill"/>).</summary>
    public void Restart()
    {
        Kill();
        _process.Dispose();
        _process = Start();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private Process Start() => Launch(_environment, ["server", "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
        "--save", "", "--dir", Directory, .. _options]);

    /// <summary>Runs the tessera executable to its end (a tool such as <c>cluster reshard</c>): exit code and output.</summary>
    public static (int Code, string Output) RunTool(params string[] args) => ExternalProgram.Run("dotnet", [Executable, .. args]);

    /// <summary>Starts the tessera executable with <paramref name="args"/>, its output read and dropped.</summary>
    public static Process Launch(params string[] args) => Launch(null, args);

    private static Process Launch(IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(Executable);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
