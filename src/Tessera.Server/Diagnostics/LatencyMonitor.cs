using Tessera.Server.Config;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// The latency monitor (Redis's latency.c): for each event class (command, fast-command, expire-cycle, fork,
/// aof-write, ...) the latest 160 seconds that saw an event at or above <c>latency-monitor-threshold</c>
/// milliseconds, one sample per second (the worst of that second), and the worst ever. Disabled at threshold 0.
/// Events come from the execution lock and from the AOF's fsync, hence the lock.
/// </summary>
internal sealed class LatencyMonitor(NumberOption threshold)
{
    public const int HistoryLength = 160;

    private readonly Dictionary<string, EventSeries> _events = new(StringComparer.Ordinal);

    internal readonly record struct Sample(long UnixSeconds, long Milliseconds);

    /// <summary>One event class: a ring of samples (Redis's latencyTimeSeries) and the all-time maximum.</summary>
    internal sealed class EventSeries(string name)
    {
        private readonly Sample[] _samples = new Sample[HistoryLength];
        private int _next;

        public string Name { get; } = name;

        public long Max { get; private set; }

        public Sample Latest => _samples[(_next + HistoryLength - 1) % HistoryLength];

        /// <summary>The samples held, oldest first.</summary>
        public List<Sample> Samples()
        {
            var list = new List<Sample>(HistoryLength);
            for (var i = 0; i < HistoryLength; i++)
            {
                var sample = _samples[(_next + i) % HistoryLength];
                if (sample.UnixSeconds != 0)
                {
                    list.Add(sample);
                }
            }
            return list;
        }

        public void Add(long now, long milliseconds)
        {
            Max = Math.Max(Max, milliseconds);
            ref var previous = ref _samples[(_next + HistoryLength - 1) % HistoryLength];
            if (previous.UnixSeconds == now)
            {
                previous = previous with { Milliseconds = Math.Max(previous.Milliseconds, milliseconds) };
                return;
            }
            _samples[_next] = new Sample(now, milliseconds);
            _next = (_next + 1) % HistoryLength;
        }
    }

    public long Threshold => threshold.Value;

    /// <summary>Records the event when monitoring is on and it took at least the threshold.</summary>
    public void AddIfNeeded(string name, long milliseconds)
    {
        var limit = threshold.Value;
        if (limit != 0 && milliseconds >= limit)
        {
            Add(name, milliseconds);
        }
    }

    public void Add(string name, long milliseconds)
    {
        lock (_events)
        {
            if (!_events.TryGetValue(name, out var series))
            {
                _events[name] = series = new EventSeries(name);
            }
            series.Add(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), milliseconds);
        }
    }

    /// <summary>The event classes seen since the last reset (in no promised order; Redis's is its hash order).</summary>
    public EventSeries[] Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events.Values];
            }
        }
    }

    /// <summary>The named class (names are case-sensitive, as Redis's), or null.</summary>
    public EventSeries? Find(string name)
    {
        lock (_events)
        {
            return _events.GetValueOrDefault(name);
        }
    }

    /// <summary>Forgets the named class (case-insensitive, as Redis's reset), or all with null; returns how many.</summary>
    public int Reset(string? name)
    {
        lock (_events)
        {
            var doomed = _events.Keys.Where(k => name is null || string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var key in doomed)
            {
                _events.Remove(key);
            }
            return doomed.Count;
        }
    }
}
