using System.Diagnostics;
using System.Runtime;

namespace Tessera.Server.Persistence;

/// <summary>
/// Start-up loading of the dataset (an RDB snapshot or the AOF), as INFO's loading fields report it. The node
/// listens while it loads: the loader holds the execution lock but lets go of it every few milliseconds, so
/// clients are answered meanwhile, with -LOADING for every command not flagged to run during loading (Redis's
/// processEventsWhileBlocked).
/// </summary>
internal sealed class LoadingProgress(Lock executionLock)
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
        EndNoGcRegion();
        if (totalBytes > 0)
        {
            StartNoGcRegion(totalBytes);
        }
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
        executionLock.Exit();
        Thread.Yield();
        executionLock.Enter();
        _lastYield = Stopwatch.GetTimestamp();
    }

    public void End()
    {
        Active = false;
        EndNoGcRegion();
    }

    /// <summary>
    /// Loading allocates one long-lived object per key; under the GC's small default gen0 budget each is then
    /// copied twice (into gen1, then gen2) and the collections dominate (a 1M-key snapshot loaded in 1.86 s, 1.37 s
    /// without them). So the load runs in a no-GC region sized for the data a file of this size holds (RDB
    /// compresses, so about six times its bytes), within a quarter of the memory available; past it, the GC
    /// simply resumes.
    /// </summary>
    private static void StartNoGcRegion(long fileBytes)
    {
        var budget = Math.Min(Math.Min(fileBytes * 6, 1L << 30), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);
        try
        {
            GC.TryStartNoGCRegion(Math.Max(budget, 1L << 20));
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            // Too large for this runtime's limits, or a region already open: load with the GC as it is.
        }
    }

    private static void EndNoGcRegion()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // The budget was exceeded and a collection already ended the region.
            }
        }
    }
}
