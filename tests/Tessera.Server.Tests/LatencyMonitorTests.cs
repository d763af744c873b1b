using Tessera.Server.Config;
using Tessera.Server.Diagnostics;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>The latency monitor's bookkeeping (Redis's latency.c): threshold, one sample per second, the ring, reset.</summary>
public class LatencyMonitorTests
{
    private static (LatencyMonitor Monitor, NumberOption Threshold) Monitor(long threshold)
    {
        var option = new NumberOption("latency-monitor-threshold", threshold, 0, long.MaxValue);
        return (new LatencyMonitor(option), option);
    }

    [Fact]
    public void Nothing_is_recorded_with_the_monitor_off_or_below_the_threshold()
    {
        var (monitor, threshold) = Monitor(0);
        monitor.AddIfNeeded("command", 1000);
        Assert.Empty(monitor.Events);
        threshold.Value = 100;
        monitor.AddIfNeeded("command", 99);
        Assert.Empty(monitor.Events);
        monitor.AddIfNeeded("command", 100);
        Assert.Equal(100, Assert.Single(monitor.Events).Max);
    }

    [Fact]
    public void Events_in_one_second_keep_the_worst_and_the_ring_holds_160_seconds()
    {
        var series = new LatencyMonitor.EventSeries("command");
        series.Add(1000, 5);
        series.Add(1000, 9);
        series.Add(1000, 7);
        Assert.Equal([new LatencyMonitor.Sample(1000, 9)], series.Samples());
        for (var second = 1001; second < 1001 + LatencyMonitor.HistoryLength; second++)
        {
            series.Add(second, second - 1000);
        }
        var samples = series.Samples();
        Assert.Equal(LatencyMonitor.HistoryLength, samples.Count);
        Assert.Equal(1001, samples[0].UnixSeconds);
        Assert.Equal(new LatencyMonitor.Sample(1160, 160), series.Latest);
        Assert.Equal(160, series.Max);
    }

    [Fact]
    public void Reset_matches_names_without_case_and_lookups_with_it()
    {
        var (monitor, _) = Monitor(1);
        monitor.Add("command", 5);
        monitor.Add("fork", 5);
        Assert.Null(monitor.Find("COMMAND"));
        Assert.Equal(0, monitor.Reset("nosuch"));
        Assert.Equal(1, monitor.Reset("COMMAND"));
        Assert.Equal("fork", Assert.Single(monitor.Events).Name);
        Assert.Equal(1, monitor.Reset(null));
        Assert.Empty(monitor.Events);
    }

    [Fact]
    public void The_graph_draws_bars_by_height_and_labels_by_age()
    {
        var series = new LatencyMonitor.EventSeries("command");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        series.Add(now - 2, 10);
        series.Add(now - 1, 40);
        var graph = LatencyReport.Graph(series).Split('\n');
        Assert.Equal("command - high 40 ms, low 10 ms (all time high 40 ms)", graph[0]);
        Assert.Equal(new string('-', 80), graph[1]);
        // Rows top to bottom: the higher sample rises to the top row ('#'), the lower one stays at the bottom ('_').
        Assert.Equal([" #", " |", " |", "_|", "  "], graph[2..7]);
        Assert.Matches("^(21|32)$", graph[7]);
        Assert.Equal("ss", graph[8]);
    }
}
