using System.Diagnostics;

namespace Tessera.TestKit;

/// <summary>redis-cli as a process (its <c>--cluster</c> tools above all), with its output for assertions.</summary>
public static class RedisCli
{
    /// <summary>Runs redis-cli with <paramref name="args"/>; a run longer than <paramref name="timeoutMs"/> is killed.</summary>
    public static (int Code, string Output) Run(string[] args, int timeoutMs = 120_000)
    {
        var start = new ProcessStartInfo(RedisServerProcess.Find("redis-cli") ?? throw new InvalidOperationException("redis-cli is not installed"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill();
            process.WaitForExit();
        }
        return (process.ExitCode, output.GetAwaiter().GetResult() + error.GetAwaiter().GetResult());
    }
}
