namespace Tessera.Proxy;

/// <summary>
/// The proxy's log: timestamped lines on standard error, in nutcracker's spirit (it has no log framework either);
/// one line per event that matters to an operator: start, config reload, ejection, readmission, fatal errors.
/// </summary>
public static class ProxyLog
{
    private static readonly Lock Gate = new();

    /// <summary>Where lines go (standard error unless the proxy was given a log file).</summary>
    public static TextWriter Output { get; set; } = Console.Error;

    public static void Notice(string message) => Write("", message);

    public static void Warning(string message) => Write("warning: ", message);

    private static void Write(string level, string message)
    {
        lock (Gate)
        {
            Output.WriteLine($"[{DateTime.Now:yyyy-MM-dd HH:mm:ss.fff}] {level}{message}");
            Output.Flush();
        }
    }
}
