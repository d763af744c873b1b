using System.Text;
using Tessera.Server.Scripting;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>EVAL, EVALSHA, their read-only forms, and SCRIPT (Redis's eval.c).</summary>
internal static class ScriptingCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("eval", c => Eval(c, bySha: false, readOnly: false));
        r.Add("evalsha", c => Eval(c, bySha: true, readOnly: false));
        r.Add("eval_ro", c => Eval(c, bySha: false, readOnly: true));
        r.Add("evalsha_ro", c => Eval(c, bySha: true, readOnly: true));
        r.Add("script|load", Load);
        r.Add("script|exists", Exists);
        r.Add("script|flush", Flush);
        r.Add("script|kill", c => c.Error("NOTBUSY No scripts in execution right now."));
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
        if (!c.TryGetLong(2, out var keys))
        {
            return;
        }
        if (keys > c.ArgCount - 3)
        {
            c.Error("ERR Number of keys can't be greater than number of args");
            return;
        }
        if (keys < 0)
        {
            c.Error("ERR Number of keys can't be negative");
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
        engine.Run(c, sha, 3, (int)keys, readOnly);
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
