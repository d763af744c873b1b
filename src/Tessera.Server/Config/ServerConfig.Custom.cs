using System.Globalization;
using Tessera.Server.Pubsub;
using static Tessera.Server.Config.ConfigFlags;

namespace Tessera.Server.Config;

/// <summary>The options with their own syntax: save, bind, dir, client-output-buffer-limit, notify-keyspace-events ...</summary>
internal sealed partial class ServerConfig
{
    private bool _saveSetFromFile;

    /// <summary>Listening addresses; a leading '-' marks an address that may fail to bind.</summary>
    public IReadOnlyList<string> Bind { get; private set; } = ["127.0.0.1", "-::1"];

    /// <summary>Snapshot points: save after Seconds if at least Changes writes happened.</summary>
    public IReadOnlyList<(long Seconds, long Changes)> SavePoints { get; private set; } = [(3600, 1), (300, 100), (60, 10000)];

    /// <summary>The working directory, where snapshots and logs go.</summary>
    public string Dir { get; private set; }

    /// <summary>Output buffer limits per client class: hard bytes, soft bytes, soft seconds.</summary>
    public Dictionary<string, (long Hard, long Soft, long Seconds)> OutputBufferLimits { get; } = new()
    {
        ["normal"] = (0, 0, 0),
        ["slave"] = (256L << 20, 64L << 20, 60),
        ["pubsub"] = (32L << 20, 8L << 20, 60),
    };

    /// <summary>Which keyspace events are published.</summary>
    public KeyspaceEvents NotifyKeyspaceEvents { get; private set; }

    /// <summary>The master to replicate from, or null.</summary>
    public (string Host, int Port)? ReplicaOf { get; private set; }

    public int[] OomScoreAdjValues { get; private set; } = [0, 200, 800];

    public double[] LatencyTrackingInfoPercentiles { get; private set; } = [50, 99, 99.9];

    private void CreateCustomOptions()
    {
        Register(new CustomOption("bind", () => string.Join(' ', Bind), SetBind, MultiArgument));
        Register(new CustomOption("save", FormatSave, SetSave, MultiArgument));
        Register(new CustomOption("dir", () => Dir, SetDir, Protected));
        Register(new CustomOption("client-output-buffer-limit", FormatOutputBufferLimits, SetOutputBufferLimits, MultiArgument));
        Register(new CustomOption("notify-keyspace-events", () => KeyspaceEventNames.Format(NotifyKeyspaceEvents), SetNotifyKeyspaceEvents));
        Register(new CustomOption("replicaof", FormatReplicaOf, SetReplicaOf, Immutable | MultiArgument, "slaveof"));
        Register(new CustomOption("oom-score-adj-values", () => string.Join(' ', OomScoreAdjValues), SetOomScoreAdjValues, MultiArgument | NotImplemented));
        Register(new CustomOption("latency-tracking-info-percentiles",
            () => string.Join(' ', LatencyTrackingInfoPercentiles.Select(p => p.ToString("0.######", CultureInfo.InvariantCulture))),
            SetLatencyPercentiles, MultiArgument));
    }

    private string? SetBind(string[] args, bool fromFile)
    {
        if (args.Length > 16)
        {
            return "Too many bind addresses specified.";
        }
        Bind = args.Length == 0 || (args.Length == 1 && args[0].Length == 0) ? [] : args;
        return null;
    }

    private string FormatSave() => string.Join(' ', SavePoints.Select(p => $"{p.Seconds} {p.Changes}"));

    private string? SetSave(string[] args, bool fromFile)
    {
        if (args.Length == 0 || (args.Length == 1 && args[0].Length == 0))
        {
            SavePoints = [];
            return null;
        }
        if (args.Length % 2 != 0)
        {
            return "Invalid save parameters";
        }
        var points = new List<(long, long)>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!long.TryParse(args[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
                || !long.TryParse(args[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var changes)
                || seconds < 1 || changes < 0)
            {
                return "Invalid save parameters";
            }
            points.Add((seconds, changes));
        }
        // In a config file, the first "save" line replaces the defaults and later lines add to it.
        SavePoints = fromFile && _saveSetFromFile ? [.. SavePoints, .. points] : points;
        _saveSetFromFile |= fromFile;
        return null;
    }

    private string? SetDir(string[] args, bool fromFile)
    {
        if (args.Length != 1)
        {
            return "wrong number of arguments";
        }
        // Kept as a full path rather than made the process's working directory (as redis-server does), so nodes
        // sharing a process (tests, tools) do not move each other; the tessera executable changes directory itself.
        string full;
        try
        {
            full = Path.GetFullPath(args[0], Dir);
        }
        catch (ArgumentException)
        {
            return "No such file or directory";
        }
        if (!Directory.Exists(full))
        {
            return "No such file or directory";
        }
        Dir = full;
        return null;
    }

    private string FormatOutputBufferLimits()
        => string.Join(' ', new[] { "normal", "slave", "pubsub" }.Select(c =>
        {
            var (hard, soft, seconds) = OutputBufferLimits[c];
            return $"{c} {hard} {soft} {seconds}";
        }));

    private string? SetOutputBufferLimits(string[] args, bool fromFile)
    {
        if (args.Length % 4 != 0 || args.Length == 0)
        {
            return "Wrong number of arguments in buffer limit configuration.";
        }
        var updates = new List<(string, (long, long, long))>();
        for (var i = 0; i < args.Length; i += 4)
        {
            var name = args[i].ToLowerInvariant() switch
            {
                "normal" => "normal",
                "slave" or "replica" => "slave",
                "pubsub" => "pubsub",
                _ => null,
            };
            if (name is null)
            {
                return "Invalid client class specified in buffer limit configuration.";
            }
            if (!MemoryUnits.TryParse(args[i + 1], out var hard) || !MemoryUnits.TryParse(args[i + 2], out var soft)
                || !long.TryParse(args[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            }
            updates.Add((name, (hard, soft, seconds)));
        }
        foreach (var (name, limits) in updates)
        {
            OutputBufferLimits[name] = limits;
        }
        return null;
    }

    private string? SetNotifyKeyspaceEvents(string[] args, bool fromFile)
    {
        if (args.Length != 1)
        {
            return "wrong number of arguments";
        }
        if (!KeyspaceEventNames.TryParse(args[0], out var events))
        {
            return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        }
        NotifyKeyspaceEvents = events;
        return null;
    }

    private string FormatReplicaOf() => ReplicaOf is { } master ? $"{master.Host} {master.Port}" : "";

    private string? SetReplicaOf(string[] args, bool fromFile)
    {
        if (args.Length != 2)
        {
            return "wrong number of arguments";
        }
        if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase) && args[1].Equals("one", StringComparison.OrdinalIgnoreCase))
        {
            ReplicaOf = null;
            return null;
        }
        if (!int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            return "Invalid master port";
        }
        ReplicaOf = (args[0], port);
        return null;
    }

    private string? SetOomScoreAdjValues(string[] args, bool fromFile)
    {
        if (args.Length != 3)
        {
            return "wrong number of arguments";
        }
        var values = new int[3];
        for (var i = 0; i < 3; i++)
        {
            if (!int.TryParse(args[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]) || values[i] is < -2000 or > 2000)
            {
                return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            }
        }
        OomScoreAdjValues = values;
        return null;
    }

    private string? SetLatencyPercentiles(string[] args, bool fromFile)
    {
        if (args.Length == 0 || (args.Length == 1 && args[0].Length == 0))
        {
            LatencyTrackingInfoPercentiles = [];
            return null;
        }
        var values = new double[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            if (!double.TryParse(args[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                return "Invalid latency-tracking-info-percentiles parameters";
            }
            if (values[i] is < 0 or > 100)
            {
                return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
            }
        }
        LatencyTrackingInfoPercentiles = values;
        return null;
    }
}
