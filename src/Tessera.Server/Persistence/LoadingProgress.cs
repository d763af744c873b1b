using System.Diagnostics;

namespace Tessera.Server.Persistence;

/// <summary>
/// Start-up loading of the dataset (an RDB snapshot or the AOF), as INFO's loading fields report it. The node
/// listens while it loads: the loader holds the execution lock but lets go of it every few milliseconds, so
/// clients are answered meanwhile, with -LOADING for every command not flagged to run during loading (Redis's
/// processEventsWhileBlocked).
/// </summary>
internal sealed class LoadingProgress(TesseraServer server)
{
    private static readonly long YieldTicks = Stopwatch.Frequency / 500;

    private readonly Stopwatch _clock = new();
    private long _lastYield;

    /// <summary>True while the dataset is being loaded.</summary>
    public bool Active { get; private set; }

    public long StartUnix { get; private set; }

    public long TotalBytes { get; private set; }

    public long LoadedBytes { get; private set; }

    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Starts loading <paramref name="totalBytes"/> (under the execution lock).</summary>
    public void Begin(long totalBytes)
    {
        Active = true;
        StartUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        TotalBytes = totalBytes;
        LoadedBytes = 0;
        _clock.Restart();
        _lastYield = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Called by the loader as it goes (holding the execution lock): records how far it got and, every couple of
    /// milliseconds, lets waiting clients run.
    /// </summary>
    public void Advance(long loadedBytes)
    {
        LoadedBytes = loadedBytes;
        var now = Stopwatch.GetTimestamp();
        if (now - _lastYield < YieldTicks)
        {
            return;
        }
        server.ExecutionLock.Exit();
        Thread.Yield();
        server.ExecutionLock.Enter();
        _lastYield = Stopwatch.GetTimestamp();
    }

    public void End() => Active = false;
}
