using System.Globalization;
using System.Text;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// The texts of LATENCY DOCTOR (Redis's createLatencyReport: statistics per event class, then advice picked by
/// which classes were seen) and LATENCY GRAPH (an ASCII sparkline of an event's samples, as Redis's sparkline.c
/// draws it), with Redis's wording so tools that read them keep working.
/// </summary>
internal static class LatencyReport
{
    private const int GraphColumns = 80;
    private const int GraphRows = 4;
    private const string Fill = "_o#";

    /// <summary>What the advice depends on besides the events themselves.</summary>
    internal readonly record struct Settings(
        long Threshold, long SlowlogSlowerThan, bool FsyncAlways, long Hz, double ForkGigabytesPerSecond, long AnonHugePagesKb);

    [Flags]
    private enum Advice
    {
        None = 0,
        BetterVm = 1 << 0,
        SlowlogEnabled = 1 << 1,
        SlowlogTuning = 1 << 2,
        SlowlogInspect = 1 << 3,
        Scheduler = 1 << 4,
        LocalDisk = 1 << 5,
        Ssd = 1 << 6,
        DataWriteback = 1 << 7,
        DiskContention = 1 << 8,
        NoAppendfsync = 1 << 9,
        RelaxFsyncPolicy = 1 << 10,
        WriteLoadInfo = 1 << 11,
        Hz = 1 << 12,
        LargeObjects = 1 << 13,
        MassEviction = 1 << 14,
        DisableThp = 1 << 15,
    }

    /// <summary>Statistics of one class's samples (Redis's analyzeLatencyForEvent).</summary>
    private readonly record struct Stats(long Samples, long Average, long MeanDeviation, long PeriodSeconds);

    public static string Doctor(LatencyMonitor.EventSeries[] events, Settings settings)
    {
        var report = new StringBuilder();
        if (events.Length == 0 && settings.Threshold == 0)
        {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
        }
        var advice = Advice.None;
        var count = 0;
        var number = 0;
        foreach (var series in events)
        {
            number++;
            if (number == 1)
            {
                report.Append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            }
            var stats = Analyze(series);
            report.Append(CultureInfo.InvariantCulture,
                $"{number}. {series.Name}: {stats.Samples} latency spikes (average {stats.Average}ms, mean deviation {stats.MeanDeviation}ms, period {Fixed2((double)stats.PeriodSeconds / stats.Samples)} sec). Worst all time event {series.Max}ms.");
            (var found, var added) = AdviceFor(series.Name, settings, report);
            advice |= found;
            count += added;
            report.Append('\n');
        }
        if (settings.AnonHugePagesKb > 0)
        {
            advice |= Advice.DisableThp;
            count++;
        }
        if (number == 0 && count == 0)
        {
            report.Append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        }
        else if (number > 0 && count == 0)
        {
            report.Append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        }
        else
        {
            report.Append("\nI have a few advices for you:\n\n");
            AppendAdvice(report, advice, settings);
        }
        return report.ToString();
    }

    /// <summary>The advice an event class calls for, and how many pieces Redis counts for it; appends the fork rate.</summary>
    private static (Advice Advice, int Count) AdviceFor(string name, Settings settings, StringBuilder report)
    {
        switch (name.ToLowerInvariant())
        {
            case "fork":
                var rate = settings.ForkGigabytesPerSecond;
                var quality = rate < 10 ? "terrible" : rate < 25 ? "poor" : rate < 100 ? "good" : "excellent";
                report.Append(CultureInfo.InvariantCulture, $" Fork rate is {Fixed2(rate)} GB/sec ({quality}).");
                return rate < 25 ? (Advice.BetterVm, 1) : (Advice.None, 0);
            case "command":
                var slowlog = settings.SlowlogSlowerThan < 0 ? (Advice.SlowlogEnabled, 1)
                    : settings.SlowlogSlowerThan / 1000 > settings.Threshold ? (Advice.SlowlogTuning, 1)
                    : (Advice.None, 0);
                return (slowlog.Item1 | Advice.SlowlogInspect | Advice.LargeObjects, slowlog.Item2 + 2);
            case "fast-command":
                return (Advice.Scheduler, 1);
            case "aof-write-pending-fsync":
                return (Advice.LocalDisk | Advice.DiskContention | Advice.Ssd | Advice.DataWriteback, 4);
            case "aof-write-active-child":
                return (Advice.NoAppendfsync | Advice.DataWriteback | Advice.Ssd, 3);
            case "aof-write-alone":
                return (Advice.LocalDisk | Advice.DataWriteback | Advice.Ssd, 3);
            case "aof-fsync-always":
                return (Advice.RelaxFsyncPolicy, 1);
            case "aof-fstat" or "rdb-unlink-temp-file":
                return (Advice.DiskContention | Advice.LocalDisk, 2);
            case "aof-rewrite-diff-write" or "aof-rename":
                return (Advice.WriteLoadInfo | Advice.DataWriteback | Advice.Ssd | Advice.LocalDisk, 4);
            case "expire-cycle":
                return (Advice.Hz | Advice.LargeObjects, 2);
            case "eviction-del":
                return (Advice.LargeObjects, 1);
            case "eviction-cycle":
                return (Advice.MassEviction, 1);
            default:
                return (Advice.None, 0);
        }
    }

    private static void AppendAdvice(StringBuilder report, Advice advice, Settings settings)
    {
        void Say(Advice flag, string text)
        {
            if (advice.HasFlag(flag))
            {
                report.Append(text);
            }
        }
        var microseconds = (ulong)settings.Threshold * 1000;
        Say(Advice.BetterVm, "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n");
        Say(Advice.SlowlogEnabled, $"- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {microseconds}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n");
        Say(Advice.SlowlogTuning, $"- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {microseconds}'.\n");
        Say(Advice.SlowlogInspect, "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        Say(Advice.Scheduler, "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
            + "  1) Lower the system load.\n"
            + "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
            + "  3) Check if you have a \"noisy neighbour\" problem.\n"
            + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
            + "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        Say(Advice.LocalDisk, "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
        Say(Advice.Ssd, "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
        Say(Advice.DataWriteback, "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
        Say(Advice.DiskContention, "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
        Say(Advice.NoAppendfsync, "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
        if (settings.FsyncAlways)
        {
            Say(Advice.RelaxFsyncPolicy, "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
        }
        Say(Advice.WriteLoadInfo, "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
        if (settings.Hz < 100)
        {
            Say(Advice.Hz, "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        }
        Say(Advice.LargeObjects, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        Say(Advice.MassEviction, "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
        Say(Advice.DisableThp, "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
    }

    /// <summary>Average, mean absolute deviation and the seconds since the oldest sample (at least 1), in whole units.</summary>
    private static Stats Analyze(LatencyMonitor.EventSeries series)
    {
        var samples = series.Samples();
        if (samples.Count == 0)
        {
            return default;
        }
        var average = samples.Sum(s => s.Milliseconds) / samples.Count;
        var deviation = samples.Sum(s => Math.Abs(average - s.Milliseconds)) / samples.Count;
        var period = Math.Max(1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - samples.Min(s => s.UnixSeconds));
        return new Stats(samples.Count, average, deviation, period);
    }

    /// <summary>LATENCY GRAPH: a title, a rule, and the sparkline with each sample's age as its label.</summary>
    public static string Graph(LatencyMonitor.EventSeries series)
    {
        var samples = series.Samples();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var low = samples.Count == 0 ? 0 : samples.Min(s => s.Milliseconds);
        var high = samples.Count == 0 ? 0 : samples.Max(s => s.Milliseconds);
        var graph = new StringBuilder();
        graph.Append(CultureInfo.InvariantCulture, $"{series.Name} - high {high} ms, low {low} ms (all time high {series.Max} ms)\n");
        graph.Append('-', GraphColumns).Append('\n');
        var labels = samples.Select(s => Age(now - s.UnixSeconds)).ToArray();
        var values = samples.Select(s => (double)s.Milliseconds).ToArray();
        for (var start = 0; start < values.Length; start += GraphColumns)
        {
            if (start != 0)
            {
                graph.Append('\n');
            }
            var length = Math.Min(GraphColumns, values.Length - start);
            RenderRange(graph, values, labels, start, length, low, high);
        }
        return graph.ToString();
    }

    /// <summary>How long ago, in the largest whole unit: 5s, 3m, 2h, 1d.</summary>
    private static string Age(long seconds) => seconds switch
    {
        < 60 => $"{seconds}s",
        < 3600 => $"{seconds / 60}m",
        < 86400 => $"{seconds / 3600}h",
        _ => $"{seconds / 86400}d",
    };

    /// <summary>
    /// Rows of bars (each row three heights, '|' below the top) over the samples' range, then the labels written
    /// downwards one character per row, as Redis's sparklineRenderRange with fill on.
    /// </summary>
    private static void RenderRange(StringBuilder output, double[] values, string[] labels, int offset, int length, double min, double max)
    {
        var range = max - min == 0 ? 1 : max - min;
        var steps = Fill.Length * GraphRows;
        var chars = new char[length];
        for (var row = 0; ; row++)
        {
            var more = false;
            Array.Fill(chars, ' ');
            for (var j = 0; j < length; j++)
            {
                var step = (int)((int)((values[offset + j] - min) * steps) / range);
                step = Math.Clamp(step, 0, steps - 1);
                if (row < GraphRows)
                {
                    var index = step - ((GraphRows - row - 1) * Fill.Length);
                    more = true;
                    if (index >= 0 && index < Fill.Length)
                    {
                        chars[j] = Fill[index];
                    }
                    else if (index >= Fill.Length)
                    {
                        chars[j] = '|';
                    }
                }
                else if (row == GraphRows)
                {
                    // One blank row between the bars and the labels.
                    more = true;
                    break;
                }
                else
                {
                    var label = labels[offset + j];
                    var position = row - GraphRows - 1;
                    if (label.Length > position)
                    {
                        more = true;
                        chars[j] = label[position];
                    }
                }
            }
            if (!more)
            {
                return;
            }
            output.Append(chars).Append('\n');
        }
    }

    private static string Fixed2(double value) => double.IsPositiveInfinity(value)
        ? "inf"
        : value.ToString("F2", CultureInfo.InvariantCulture);
}
