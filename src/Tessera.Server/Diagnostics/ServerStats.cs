namespace Tessera.Server.Diagnostics;

/// <summary>
/// Counters behind INFO stats and errorstats (changed under the execution lock; error counts also by clients
/// answered -BUSY while a script holds it, hence their own lock).
/// </summary>
internal sealed class ServerStats
{
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly long[] _opsSamples = new long[16];
    private int _sampleIndex;
    private long _lastSampleCommands;
    private long _lastSampleTicks = Environment.TickCount64;

    public long CommandsProcessed { get; set; }

    /// <summary>Blobs of RESTORE payloads checked deeply under sanitize-dump-payload (INFO dump_payload_sanitizations).</summary>
    public long DumpPayloadSanitizations { get; set; }

    public long TotalErrorReplies { get; private set; }

    /// <summary>
    /// How long the latest background job took to take its point-in-time view under the lock (Redis's fork time,
    /// INFO latest_fork_usec), and how many views were taken (total_forks).
    /// </summary>
    public long LatestForkMicros { get; private set; }

    public long TotalForks { get; private set; }

    public void CountFork(long micros)
    {
        LatestForkMicros = micros;
        TotalForks++;
    }

    /// <summary>Memory covered per second by the latest view (Redis's stat_fork_rate, for LATENCY DOCTOR).</summary>
    public double ForkGigabytesPerSecond(long usedMemory) =>
        (double)usedMemory * 1_000_000 / Math.Max(LatestForkMicros, 1) / (1024 * 1024 * 1024);

    /// <summary>Error replies by their code (ERR, WRONGTYPE ...), as a copy.</summary>
    public KeyValuePair<string, long>[] Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Commands per second, averaged over the last samples (instantaneous_ops_per_sec).</summary>
    public long InstantaneousOpsPerSecond => (long)_opsSamples.Average();

    public void CountError(string code)
    {
        lock (_errors)
        {
            TotalErrorReplies++;
            _errors[code] = _errors.GetValueOrDefault(code) + 1;
        }
    }

    /// <summary>Takes an ops/sec sample (every cron tick, as Redis's trackInstantaneousMetric).</summary>
    public void Sample()
    {
        var now = Environment.TickCount64;
        var elapsed = now - _lastSampleTicks;
        if (elapsed <= 0)
        {
            return;
        }
        _opsSamples[_sampleIndex] = (CommandsProcessed - _lastSampleCommands) * 1000 / elapsed;
        _sampleIndex = (_sampleIndex + 1) % _opsSamples.Length;
        _lastSampleCommands = CommandsProcessed;
        _lastSampleTicks = now;
    }

    public void Reset()
    {
        lock (_errors)
        {
            _errors.Clear();
            TotalErrorReplies = 0;
        }
        CommandsProcessed = 0;
        _lastSampleCommands = 0;
    }
}
