using System.Text;
using Tessera.Core.Commands;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Server commands (Redis's server.c): TIME, SAVE, LASTSAVE, MONITOR, SHUTDOWN, SLOWLOG, LATENCY, MODULE.</summary>
internal static partial class ServerCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("time", Time);
        r.Add("lastsave", c => c.Reply.WriteInteger(c.Server.Snapshots.LastSaveUnix));
        r.Add("save", c =>
        {
            if (c.Server.Snapshots.Background is not null)
            {
                c.Error("ERR Background save already in progress");
            }
            else if (c.Server.Snapshots.Save())
            {
                c.Reply.WriteLiteral(Replies.Ok);
            }
            else
            {
                c.Error("ERR");
            }
        });
        r.Add("bgsave", BackgroundSave);
        r.Add("bgrewriteaof", c =>
        {
            var aof = c.Server.Aof;
            if (aof.Rewrite is not null)
            {
                c.Error("ERR Background append only file rewriting already in progress");
            }
            else if (c.Server.Keyspace.Snapshot is not null || c.DenyBlocking)
            {
                aof.RewriteScheduled = true;
                c.Reply.WriteSimpleString("Background append only file rewriting scheduled"u8);
            }
            else if (aof.StartRewrite())
            {
                c.Reply.WriteSimpleString("Background append only file rewriting started"u8);
            }
            else
            {
                c.Error("ERR Background append only file rewriting failed to start. Please check the logs for more information.");
            }
        });
        r.Add("monitor", Monitor);
        r.Add("shutdown", Shutdown);
        r.AddWhileBusy("shutdown");
        r.Add("slowlog|get", SlowlogGet);
        r.Add("slowlog|len", c => c.Reply.WriteInteger(c.Server.Slowlog.Count));
        r.Add("slowlog|reset", c =>
        {
            c.Server.Slowlog.Reset();
            c.Reply.WriteLiteral(Replies.Ok);
        });
        r.Add("slowlog|help", c => Help.Write(c,
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog."));
        r.Add("latency|latest", LatencyLatest);
        r.Add("latency|history", LatencyHistory);
        r.Add("latency|reset", c =>
        {
            var latency = c.Server.Latency;
            var resets = 0;
            for (var i = 2; i < c.ArgCount; i++)
            {
                resets += latency.Reset(Encoding.Latin1.GetString(c.Arg(i)));
            }
            c.Reply.WriteInteger(c.ArgCount == 2 ? latency.Reset(null) : resets);
        });
        r.Add("latency|doctor", c => c.Reply.WriteVerbatim(Encoding.UTF8.GetBytes(
            Diagnostics.LatencyReport.Doctor(c.Server.Latency.Events, c.Server.LatencyReportSettings()))));
        r.Add("latency|graph", c =>
        {
            var series = c.Server.Latency.Find(Encoding.Latin1.GetString(c.Arg(2)));
            if (series is null)
            {
                c.Error($"ERR No samples available for event '{CommandReplies.Truncated(c.Arg(2), int.MaxValue)}'");
                return;
            }
            c.Reply.WriteVerbatim(Encoding.UTF8.GetBytes(Diagnostics.LatencyReport.Graph(series)));
        });
        r.Add("latency|histogram", LatencyHistogram);
        r.Add("latency|help", c => Help.Write(c,
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied."));
        r.Add("module|list", c => c.Reply.WriteArrayHeader(0));
        r.Add("module|load", c => c.Error("ERR Error loading the extension. Please check the server logs."));
        r.Add("module|loadex", c => c.Error("ERR Error loading the extension. Please check the server logs."));
        r.Add("module|unload", c => c.Error("ERR Error unloading module: no such module with that name"));
        r.Add("module|help", c => Help.Write(c,
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module."));
    }

    /// <summary>
    /// BGSAVE [SCHEDULE]: starts a background save, or with SCHEDULE (and always inside EXEC) queues one behind
    /// the background job already running.
    /// </summary>
    private static void BackgroundSave(CommandContext c)
    {
        var schedule = c.ArgCount == 2 && c.ArgIs(1, "schedule"u8);
        if (c.ArgCount > 1 && !schedule)
        {
            c.Error(Replies.SyntaxError);
            return;
        }
        var snapshots = c.Server.Snapshots;
        if (snapshots.Background is not null)
        {
            c.Error("ERR Background save already in progress");
        }
        else if (c.Server.Keyspace.Snapshot is not null || c.DenyBlocking)
        {
            if (schedule || c.DenyBlocking)
            {
                snapshots.Scheduled = true;
                c.Reply.WriteSimpleString("Background saving scheduled"u8);
            }
            else
            {
                c.Error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
            }
        }
        else
        {
            snapshots.StartBackground();
            c.Reply.WriteSimpleString("Background saving started"u8);
        }
    }

    private static void Time(CommandContext c)
    {
        var micros = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        c.Reply.WriteArrayHeader(2);
        c.Reply.WriteBulk(micros / 1000000);
        c.Reply.WriteBulk(micros % 1000000);
    }

    private static void Monitor(CommandContext c)
    {
        if ((c.Session.Flags & ClientFlags.Monitor) == 0)
        {
            c.Session.Flags |= ClientFlags.Monitor;
            c.Server.Monitors.Add(c.Session);
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Shutdown(CommandContext c)
    {
        var abort = false;
        var (save, noSave, force) = (false, false, false);
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.ArgIs(i, "abort"u8))
            {
                abort = true;
            }
            else if (c.ArgIs(i, "nosave"u8) || c.ArgIs(i, "save"u8) || c.ArgIs(i, "force"u8))
            {
                save |= c.ArgIs(i, "save"u8);
                noSave |= c.ArgIs(i, "nosave"u8);
                force |= c.ArgIs(i, "force"u8);
            }
            else if (!c.ArgIs(i, "now"u8))
            {
                c.SyntaxError();
                return;
            }
        }
        if (abort)
        {
            if (c.ArgCount != 2)
            {
                c.SyntaxError();
                return;
            }
            c.Error("ERR No shutdown in progress.");
            return;
        }
        if (c.Server.ScriptsIfStarted is { TimedOut: true } scripts)
        {
            // While a script is busy only SHUTDOWN NOSAVE goes through: it stops the script, writes or not.
            if (!noSave)
            {
                c.Error(scripts.BusyError);
                return;
            }
            c.Server.Log.LogShutdownRequested();
            scripts.Kill(force: true);
            c.Session.Flags |= ClientFlags.CloseAfterReply;
            c.Server.Shutdown();
            return;
        }
        c.Server.Log.LogShutdownRequested();
        if (!c.Server.SaveBeforeExit(save, noSave, force))
        {
            c.Error("ERR Errors trying to SHUTDOWN. Check logs.");
            return;
        }
        // Like Redis, a successful SHUTDOWN closes the connections without replying.
        c.Session.Flags |= ClientFlags.CloseAfterReply;
        c.Server.Shutdown();
    }

    private static void SlowlogGet(CommandContext c)
    {
        long count = 10;
        if (c.ArgCount == 3)
        {
            if (!Resp.RedisInteger.TryParse(c.Arg(2), out count) || count < -1)
            {
                c.Error("ERR count should be greater than or equal to -1");
                return;
            }
            if (count == -1)
            {
                count = long.MaxValue;
            }
        }
        var entries = c.Server.Slowlog.Entries.Take((int)Math.Min(count, int.MaxValue)).ToList();
        var w = c.Reply;
        w.WriteArrayHeader(entries.Count);
        foreach (var entry in entries)
        {
            w.WriteArrayHeader(6);
            w.WriteInteger(entry.Id);
            w.WriteInteger(entry.UnixSeconds);
            w.WriteInteger(entry.Micros);
            w.WriteArrayHeader(entry.Args.Length);
            foreach (var arg in entry.Args)
            {
                w.WriteBulk(arg);
            }
            w.WriteBulk(entry.Peer);
            w.WriteBulk(entry.Name);
        }
    }

    /// <summary>LATENCY LATEST: per event class, its name, the time and latency of its latest sample, and its worst.</summary>
    private static void LatencyLatest(CommandContext c)
    {
        var events = c.Server.Latency.Events;
        c.Reply.WriteArrayHeader(events.Length);
        foreach (var series in events)
        {
            var latest = series.Latest;
            c.Reply.WriteArrayHeader(4);
            c.Reply.WriteBulk(series.Name);
            c.Reply.WriteInteger(latest.UnixSeconds);
            c.Reply.WriteInteger(latest.Milliseconds);
            c.Reply.WriteInteger(series.Max);
        }
    }

    /// <summary>LATENCY HISTORY event: its samples as [unix time, milliseconds] pairs, oldest first.</summary>
    private static void LatencyHistory(CommandContext c)
    {
        var samples = c.Server.Latency.Find(Encoding.Latin1.GetString(c.Arg(2)))?.Samples() ?? [];
        c.Reply.WriteArrayHeader(samples.Count);
        foreach (var sample in samples)
        {
            c.Reply.WriteArrayHeader(2);
            c.Reply.WriteInteger(sample.UnixSeconds);
            c.Reply.WriteInteger(sample.Milliseconds);
        }
    }

    private static void LatencyHistogram(CommandContext c)
    {
        var commands = new List<ServerCommand>();
        if (c.ArgCount == 2)
        {
            foreach (var command in c.Server.Commands.All)
            {
                commands.Add(command);
                commands.AddRange(command.Subcommands.Values);
            }
        }
        else
        {
            for (var i = 2; i < c.ArgCount; i++)
            {
                var found = c.Server.Commands.FindByFullName(Encoding.UTF8.GetString(c.Arg(i)).ToLowerInvariant());
                if (found is not null)
                {
                    commands.Add(found);
                    if (found.Handler is null)
                    {
                        commands.AddRange(found.Subcommands.Values);
                    }
                }
            }
        }
        var tracked = commands.Where(x => x.Latency is { Count: > 0 }).Distinct().ToList();
        var w = c.Reply;
        w.WriteMapHeader(tracked.Count);
        foreach (var command in tracked)
        {
            w.WriteBulk(command.Info.FullNameBytes);
            w.WriteMapHeader(2);
            w.WriteBulk("calls"u8);
            w.WriteInteger(command.Calls);
            w.WriteBulk("histogram_usec"u8);
            var buckets = command.Latency!.PowerOfTwoBuckets().Where(b => b.Cumulative > 0).ToList();
            w.WriteMapHeader(buckets.Count);
            foreach (var (micros, cumulative) in buckets)
            {
                w.WriteInteger(micros);
                w.WriteInteger(cumulative);
            }
        }
    }
}
