namespace Tessera.Server.Diagnostics;

/// <summary>
/// Counters behind INFO stats and errorstats (changed under the execution lock; error counts also by clients
/// answered -BUSY while a script holds it, hence their own lock).
/// </summary>
internal sealed class ServerStats
{
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly InstantaneousMetric _ops = new();
    private readonly InstantaneousMetric _input = new();
    private readonly InstantaneousMetric _output = new();

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
    public long InstantaneousOpsPerSecond => (long)_ops.PerSecond;

    /// <summary>Bytes read from clients per second (instantaneous_input_kbps, once divided by 1024).</summary>
    public double InstantaneousInputPerSecond => _input.PerSecond;

    /// <summary>Bytes written to clients per second (instantaneous_output_kbps, once divided by 1024).</summary>
    public double InstantaneousOutputPerSecond => _output.PerSecond;

    public void CountError(string code)
    {
        lock (_errors)
        {
            TotalErrorReplies++;
            _errors[code] = _errors.GetValueOrDefault(code) + 1;
        }
    }

    /// <summary>
    /// Takes a sample of commands and network bytes per second (every cron tick, as Redis's
    /// trackInstantaneousMetric), from the running totals.
    /// </summary>
    public void Sample(long inputBytes, long outputBytes)
    {
        var now = Environment.TickCount64;
        _ops.Sample(CommandsProcessed, now);
        _input.Sample(inputBytes, now);
        _output.Sample(outputBytes, now);
    }

    public void Reset()
    {
        lock (_errors)
        {
            _errors.Clear();
            TotalErrorReplies = 0;
        }
        CommandsProcessed = 0;
        _ops.Restart();
        LatestForkMicros = 0;
        TotalForks = 0;
    }

    /// <summary>A rate averaged over the last 16 samples of a running total (Redis's inst_metric).</summary>
    private sealed class InstantaneousMetric
    {
        private readonly double[] _samples = new double[16];
        private int _next;
        private long _lastTotal;
        private long _lastTicks = Environment.TickCount64;

        public double PerSecond => _samples.Average();

        public void Sample(long total, long now)
        {
            var elapsed = now - _lastTicks;
            if (elapsed <= 0)
            {
                return;
            }
            _samples[_next] = (total - _lastTotal) * 1000.0 / elapsed;
            _next = (_next + 1) % _samples.Length;
            _lastTotal = total;
            _lastTicks = now;
        }

        /// <summary>The total restarts from zero (CONFIG RESETSTAT).</summary>
        public void Restart() => _lastTotal = 0;
    }
}
