using Tessera.Core.Commands;
using Tessera.Server.Diagnostics;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Runs one command; reads arguments and writes the reply through the context.</summary>
internal delegate void CommandHandler(CommandContext context);

/// <summary>A command the node serves: its metadata, its handler and its INFO commandstats counters.</summary>
internal sealed class ServerCommand(CommandInfo info, CommandHandler? handler)
{
    private readonly Dictionary<string, ServerCommand> _subcommands = new(StringComparer.OrdinalIgnoreCase);

    public CommandInfo Info { get; } = info;

    /// <summary>Null for a container command (CONFIG, CLIENT ...), whose subcommands have handlers.</summary>
    public CommandHandler? Handler { get; set; } = handler;

    public IReadOnlyDictionary<string, ServerCommand> Subcommands => _subcommands;

    /// <summary>
    /// What runs while a script is busy, for the commands Redis allows then (allow_busy): a handler that needs
    /// neither the dataset nor the execution lock, since the script holds both. Null for the others: an
    /// allowed command without one waits for the script to end.
    /// </summary>
    public CommandHandler? WhileBusy { get; set; }

    /// <summary>
    /// The command's flags for these arguments, when they are not always its declared ones: EVAL and FCALL take
    /// the flags their script declares (Redis's getCommandFlags). Null for the others.
    /// </summary>
    public Func<CommandInfo, Tessera.Resp.Request, CommandFlags>? FlagsFor { get; set; }

    public long Calls { get; set; }

    public long Microseconds { get; set; }

    /// <summary>Calls refused before running (arity, auth, OOM ...).</summary>
    public long RejectedCalls { get; set; }

    /// <summary>Calls that ran and replied with an error.</summary>
    public long FailedCalls { get; set; }

    /// <summary>Latency distribution, created on the first call (latency-tracking).</summary>
    public LatencyHistogram? Latency { get; private set; }

    /// <summary>Counts one run that took <paramref name="nanoseconds"/>.</summary>
    public void RecordCall(long nanoseconds, bool failed, bool trackLatency)
    {
        Calls++;
        Microseconds += nanoseconds / 1000;
        if (failed)
        {
            FailedCalls++;
        }
        if (trackLatency)
        {
            (Latency ??= new LatencyHistogram()).Record(nanoseconds);
        }
    }

    public void AddSubcommand(ServerCommand sub) => _subcommands[sub.Info.Name] = sub;

    /// <summary>The subcommand named <paramref name="name"/> (any case), or null.</summary>
    public ServerCommand? FindSubcommand(ReadOnlySpan<byte> name)
    {
        var info = Info.FindSubcommand(name);
        return info is null ? null : _subcommands.GetValueOrDefault(info.Name);
    }

    public void ResetStats()
    {
        Calls = 0;
        Microseconds = 0;
        RejectedCalls = 0;
        FailedCalls = 0;
        Latency?.Reset();
        foreach (var sub in _subcommands.Values)
        {
            sub.ResetStats();
        }
    }
}
