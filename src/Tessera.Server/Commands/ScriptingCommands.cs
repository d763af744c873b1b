using System.Text;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Scripting;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>EVAL, EVALSHA, their read-only forms and SCRIPT (Redis's eval.c); FUNCTION and FCALL (functions.c).</summary>
internal static class ScriptingCommands
{
    /// <param name="r">The registry.</param>
    /// <param name="scriptsIfStarted">The node's script engine once started: EVAL's and FCALL's flags come from the script.</param>
    public static void Register(CommandRegistry r, Func<ScriptEngine?> scriptsIfStarted)
    {
        r.Add("eval", c => Eval(c, bySha: false, readOnly: false));
        r.Add("evalsha", c => Eval(c, bySha: true, readOnly: false));
        r.Add("eval_ro", c => Eval(c, bySha: false, readOnly: true));
        r.Add("evalsha_ro", c => Eval(c, bySha: true, readOnly: true));
        r.Add("script|load", Load);
        r.Add("script|exists", Exists);
        r.Add("script|flush", Flush);
        // Holding the execution lock, no script runs: a slow one is killed by the busy-time handler.
        r.Add("script|kill", c => c.Error(ScriptEngine.NotBusy));
        r.AddWhileBusy("script|kill", c => Kill(c, function: false));
        r.Add("fcall", c => FunctionCall(c, readOnly: false));
        r.Add("fcall_ro", c => FunctionCall(c, readOnly: true));
        foreach (var eval in (string[])["eval", "evalsha", "eval_ro", "evalsha_ro"])
        {
            r.SetFlagsFor(eval, (command, args) => EvalCommandFlags(scriptsIfStarted(), command, args));
        }
        r.SetFlagsFor("fcall", (command, args) => FunctionCallCommandFlags(scriptsIfStarted(), command, args));
        r.SetFlagsFor("fcall_ro", (command, args) => FunctionCallCommandFlags(scriptsIfStarted(), command, args));
        r.Add("function|load", FunctionLoad);
        r.Add("function|delete", c =>
        {
            if (c.Server.Scripts.DeleteLibrary(Encoding.Latin1.GetString(c.Arg(2))))
            {
                c.Dirty();
                c.Reply.WriteLiteral(Replies.Ok);
            }
            else
            {
                c.Error("ERR Library not found");
            }
        });
        r.Add("function|flush", c =>
        {
            if (c.ArgCount > 3)
            {
                Help.SubcommandSyntaxError(c);
                return;
            }
            if (c.ArgCount == 3 && !c.ArgIs(2, "sync"u8) && !c.ArgIs(2, "async"u8))
            {
                c.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                return;
            }
            c.Server.Scripts.FlushLibraries();
            c.Dirty();
            c.Reply.WriteLiteral(Replies.Ok);
        });
        r.Add("function|list", FunctionList);
        r.Add("function|dump", FunctionDump);
        r.Add("function|restore", FunctionRestore);
        r.Add("function|stats", c => WriteFunctionStats(c.Reply, c.Server.Scripts));
        r.AddWhileBusy("function|stats");
        // Holding the execution lock, no function runs (see SCRIPT KILL).
        r.Add("function|kill", c => c.Error(ScriptEngine.NotBusy));
        r.AddWhileBusy("function|kill", c => Kill(c, function: true));
        r.Add("script|help", c => Help.Write(c,
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it."));
    }

    private static void Eval(CommandContext c, bool bySha, bool readOnly)
    {
        // Shown to MONITOR before the commands the script runs, as Redis's evalCommand feeds it.
        FeedMonitors(c);
        // The script's writes propagate one by one (effects replication), never the script itself.
        c.PropagateNothing();
        if (!TryGetKeyCount(c, out var keys))
        {
            return;
        }
        var engine = c.Server.Scripts;
        string sha;
        if (bySha)
        {
            sha = Encoding.Latin1.GetString(c.Arg(1)).ToLowerInvariant();
            if (!engine.Exists(sha))
            {
                c.Error("NOSCRIPT No matching script. Please use EVAL.");
                return;
            }
        }
        else
        {
            var body = c.Arg(1).ToArray();
            sha = ScriptEngine.Sha1(body);
            if (engine.Load(sha, body) is { } error)
            {
                c.Error(error);
                return;
            }
        }
        var flags = engine.FlagsOf(sha)!.Value;
        if (c.Session.ScriptRunRefusal(flags, readOnly) is { } refusal)
        {
            c.Error(refusal);
            return;
        }
        var declared = (flags & ScriptFlags.EvalCompatibility) == 0;
        engine.Run(c, sha, 3, keys, readOnly || (declared && (flags & ScriptFlags.NoWrites) != 0), declared && (flags & ScriptFlags.AllowOom) != 0);
    }

    /// <summary>
    /// EVAL's command flags (evalGetCommandFlags): a script with a shebang, or a cached one that had one, declares
    /// them; otherwise EVAL's own.
    /// </summary>
    private static Core.Commands.CommandFlags EvalCommandFlags(ScriptEngine? scripts, Core.Commands.CommandInfo command, Resp.Request args)
    {
        ScriptFlags flags;
        if (command.Name is "evalsha" or "evalsha_ro")
        {
            if (args[1].Length != 40 || scripts?.FlagsOf(Encoding.Latin1.GetString(args[1]).ToLowerInvariant()) is not { } cached)
            {
                return command.Flags;
            }
            flags = cached;
        }
        else if (ScriptFlagNames.FromShebang(args[1], out flags, out _) is not null)
        {
            return command.Flags;
        }
        return ScriptFlagNames.CommandFlags(command.Flags, flags);
    }

    /// <summary>FCALL's command flags: the called function's (fcallGetCommandFlags), FCALL's own when there is none.</summary>
    private static Core.Commands.CommandFlags FunctionCallCommandFlags(ScriptEngine? scripts, Core.Commands.CommandInfo command, Resp.Request args)
    {
        return scripts?.FunctionFlags(Encoding.Latin1.GetString(args[1])) is { } flags
            ? ScriptFlagNames.CommandFlags(command.Flags, flags)
            : command.Flags;
    }

    /// <summary>The numkeys argument of EVAL and FCALL, checked as Redis does; false after replying an error.</summary>
    private static bool TryGetKeyCount(CommandContext c, out int keyCount)
    {
        keyCount = 0;
        if (!c.TryGetLong(2, out var keys))
        {
            return false;
        }
        if (keys > c.ArgCount - 3)
        {
            c.Error("ERR Number of keys can't be greater than number of args");
            return false;
        }
        if (keys < 0)
        {
            c.Error("ERR Number of keys can't be negative");
            return false;
        }
        keyCount = (int)keys;
        return true;
    }

    private static void FunctionCall(CommandContext c, bool readOnly)
    {
        FeedMonitors(c);
        c.PropagateNothing();
        var name = Encoding.Latin1.GetString(c.Arg(1));
        var flags = c.Server.Scripts.FunctionFlags(name);
        if (flags is null)
        {
            c.Error("ERR Function not found");
            return;
        }
        if (!Resp.RedisInteger.TryParse(c.Arg(2), out _))
        {
            c.Error("ERR Bad number of keys provided");
            return;
        }
        if (!TryGetKeyCount(c, out var keys))
        {
            return;
        }
        if (c.Session.ScriptRunRefusal(flags.Value, readOnly) is { } refusal)
        {
            c.Error(refusal);
            return;
        }
        c.Server.Scripts.CallFunction(c, name, keys, readOnly || (flags.Value & ScriptFlags.NoWrites) != 0, (flags.Value & ScriptFlags.AllowOom) != 0);
    }

    private static void FunctionLoad(CommandContext c)
    {
        var replace = c.ArgCount == 4 && c.ArgIs(2, "replace"u8);
        if (c.ArgCount > 4 || (c.ArgCount == 4 && !replace))
        {
            c.Error($"ERR Unknown option given: {Encoding.Latin1.GetString(c.Arg(2))}");
            return;
        }
        var (name, error) = c.Server.Scripts.LoadLibrary(c.Arg(c.ArgCount - 1).ToArray(), replace);
        if (error is not null)
        {
            c.Error(error);
            return;
        }
        c.Dirty();
        c.Reply.WriteBulk(name!);
    }

    /// <summary>FUNCTION DUMP: every library's code as an RDB function record, in a DUMP envelope.</summary>
    private static void FunctionDump(CommandContext c)
    {
        var codes = c.Server.Scripts.Libraries.Select(l => l.Code);
        c.Reply.WriteBulk(DumpPayload.Create(c.Server.Config.RdbCompression.Value, writer => RdbFile.WriteLibraries(writer, codes)));
    }

    /// <summary>FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (APPEND by default).</summary>
    private static void FunctionRestore(CommandContext c)
    {
        if (c.ArgCount > 4)
        {
            Help.SubcommandSyntaxError(c);
            return;
        }
        var policy = c.ArgCount == 4 ? Encoding.Latin1.GetString(c.Arg(3)).ToLowerInvariant() : "append";
        if (policy is not ("append" or "replace" or "flush"))
        {
            c.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
        if (DumpPayload.Open(c.Arg(2), c.Server.Debug.SkipChecksumValidation) is not { } reader)
        {
            c.Error("ERR DUMP payload version or checksum are wrong");
            return;
        }
        var codes = new List<byte[]>();
        try
        {
            while (!reader.AtEnd)
            {
                var type = reader.ReadByte();
                if (type != RdbFormat.OpFunction2)
                {
                    c.Error(type == RdbFormat.OpFunctionPreGa ? "ERR Pre-GA function format not supported" : "ERR given type is not a function");
                    return;
                }
                codes.Add(reader.ReadString());
            }
        }
        catch (RdbFormatException)
        {
            c.Error("ERR failed loading the given functions payload");
            return;
        }
        if (c.Server.Scripts.RestoreLibraries(codes, policy) is { } error)
        {
            c.Error(error);
            return;
        }
        c.Dirty();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// FUNCTION STATS: the slow function running now (only answerable while one holds the node, from outside the
    /// execution lock) and, per engine, how many libraries and functions are loaded.
    /// </summary>
    internal static void WriteFunctionStats(Resp.RespWriter w, ScriptEngine engine)
    {
        w.WriteMapHeader(2);
        w.WriteBulk("running_script"u8);
        if (engine.RunningFunction is { } running)
        {
            w.WriteMapHeader(3);
            w.WriteBulk("name"u8);
            w.WriteBulk(Encoding.Latin1.GetBytes(running.Name));
            w.WriteBulk("command"u8);
            w.WriteArrayHeader(running.Command.Length);
            foreach (var arg in running.Command)
            {
                w.WriteBulk(arg);
            }
            w.WriteBulk("duration_ms"u8);
            w.WriteInteger(running.DurationMs);
        }
        else
        {
            w.WriteNullBulk();
        }
        w.WriteBulk("engines"u8);
        w.WriteMapHeader(1);
        w.WriteBulk("LUA"u8);
        w.WriteMapHeader(2);
        w.WriteBulk("libraries_count"u8);
        w.WriteInteger(engine.Libraries.Count());
        w.WriteBulk("functions_count"u8);
        w.WriteInteger(engine.Libraries.Sum(l => l.Functions.Count));
    }

    /// <summary>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: one map per library.</summary>
    private static void FunctionList(CommandContext c)
    {
        byte[]? pattern = null;
        var withCode = false;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (c.ArgIs(i, "withcode"u8) && !withCode)
            {
                withCode = true;
            }
            else if (c.ArgIs(i, "libraryname"u8) && pattern is null)
            {
                if (i + 1 >= c.ArgCount)
                {
                    c.Error("ERR library name argument was not given");
                    return;
                }
                pattern = c.Arg(++i).ToArray();
            }
            else
            {
                c.Error($"ERR Unknown argument {Encoding.Latin1.GetString(c.Arg(i))}");
                return;
            }
        }
        var libraries = c.Server.Scripts.Libraries
            .Where(l => pattern is null || Core.Text.GlobPattern.IsMatch(pattern, Encoding.Latin1.GetBytes(l.Name))).ToList();
        c.Reply.WriteArrayHeader(libraries.Count);
        foreach (var library in libraries)
        {
            c.Reply.WriteMapHeader(withCode ? 4 : 3);
            c.Reply.WriteBulk("library_name");
            c.Reply.WriteBulk(library.Name);
            c.Reply.WriteBulk("engine");
            c.Reply.WriteBulk("LUA");
            c.Reply.WriteBulk("functions");
            c.Reply.WriteArrayHeader(library.Functions.Count);
            foreach (var (function, registered) in library.Functions)
            {
                c.Reply.WriteMapHeader(3);
                c.Reply.WriteBulk("name");
                c.Reply.WriteBulk(function);
                c.Reply.WriteBulk("description");
                if (registered.Description is { } description)
                {
                    c.Reply.WriteBulk(Encoding.Latin1.GetBytes(description));
                }
                else
                {
                    c.Reply.WriteNullBulk();
                }
                var names = ScriptFlagNames.Names(registered.Flags).ToList();
                c.Reply.WriteBulk("flags");
                c.Reply.WriteSetHeader(names.Count);
                foreach (var flag in names)
                {
                    c.Reply.WriteSimpleString(Encoding.Latin1.GetBytes(flag));
                }
            }
            if (withCode)
            {
                c.Reply.WriteBulk("library_code");
                c.Reply.WriteBulk(library.Code);
            }
        }
    }

    private static void FeedMonitors(CommandContext c)
    {
        if (c.Server.Monitors.Count > 0)
        {
            c.Server.FeedMonitors(c.Session, c.Command, c.Args, explicitly: true);
        }
    }

    /// <summary>SCRIPT KILL or FUNCTION KILL while a script is busy (from any client, without the lock).</summary>
    private static void Kill(CommandContext c, bool function)
    {
        if (c.Server.ScriptsIfStarted!.Kill(function: function) is { } refusal)
        {
            c.Error(refusal);
        }
        else
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
    }

    private static void Load(CommandContext c)
    {
        var body = c.Arg(2).ToArray();
        var sha = ScriptEngine.Sha1(body);
        if (c.Server.Scripts.Load(sha, body) is { } error)
        {
            c.Error(error);
            return;
        }
        c.Reply.WriteBulk(sha);
    }

    private static void Exists(CommandContext c)
    {
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            c.Reply.WriteInteger(c.Server.Scripts.Exists(Encoding.Latin1.GetString(c.Arg(i)).ToLowerInvariant()) ? 1 : 0);
        }
    }

    private static void Flush(CommandContext c)
    {
        if (c.ArgCount > 3 || (c.ArgCount == 3 && !c.ArgIs(2, "sync"u8) && !c.ArgIs(2, "async"u8)))
        {
            c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        c.Server.Scripts.Flush();
        c.Reply.WriteLiteral(Replies.Ok);
    }
}
