using System.Diagnostics;

namespace Tessera.TestKit;

/// <summary>An external program run to its end (bounded in time), with its output for assertions.</summary>
public static class ExternalProgram
{
    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; a run longer than <paramref name="timeoutMs"/> is killed.</summary>
    public static (int Code, string Output) Run(string program, string[] args, int timeoutMs = 120_000)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        return (process.ExitCode, output.GetAwaiter().GetResult() + error.GetAwaiter().GetResult());
    }
}

/// <summary>redis-cli (its <c>--cluster</c> tools above all).</summary>
public static class RedisCli
{
    public static (int Code, string Output) Run(string[] args, int timeoutMs = 120_000)
        => ExternalProgram.Run(RedisServerProcess.Find("redis-cli") ?? throw new InvalidOperationException("redis-cli is not installed"), args, timeoutMs);
}
