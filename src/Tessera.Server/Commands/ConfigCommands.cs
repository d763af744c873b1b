using System.Text;
using Tessera.Core.Text;
using Tessera.Server.Config;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>CONFIG GET/SET/RESETSTAT/REWRITE over the option table, with Redis's atomic multi-option SET.</summary>
internal static class ConfigCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("config|get", Get);
        r.Add("config|set", Set);
        r.Add("config|resetstat", ResetStat);
        r.Add("config|rewrite", Rewrite);
        r.Add("config|help", c => Help.Write(c,
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file."));
    }

    private static void Get(CommandContext c)
    {
        var config = c.Server.Config;
        var matches = new List<(string Name, ConfigOption Option)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 2; i < c.ArgCount; i++)
        {
            var pattern = Encoding.UTF8.GetString(c.Arg(i));
            if (pattern.IndexOfAny(['[', '*', '?']) < 0)
            {
                // An exact name is looked up directly (hidden options too) and echoed as typed.
                var option = config.Find(pattern);
                if (option is not null && seen.Add(pattern))
                {
                    matches.Add((pattern, option));
                }
                continue;
            }
            foreach (var (name, option) in config.VisibleNames)
            {
                if (!seen.Contains(name) && GlobPattern.IsMatch(c.Arg(i), Encoding.UTF8.GetBytes(name), ignoreCase: true))
                {
                    seen.Add(name);
                    matches.Add((name, option));
                }
            }
        }
        c.Reply.WriteMapHeader(matches.Count);
        foreach (var (name, option) in matches)
        {
            c.Reply.WriteBulk(name);
            c.Reply.WriteBulk(option.Format());
        }
    }

    private static void Set(CommandContext c)
    {
        if (c.ArgCount % 2 != 0)
        {
            c.SyntaxError();
            return;
        }
        var config = c.Server.Config;
        var count = (c.ArgCount - 2) / 2;
        var options = new ConfigOption[count];
        var values = new string[count];
        for (var i = 0; i < count; i++)
        {
            var name = Encoding.UTF8.GetString(c.Arg(2 + (i * 2)));
            var option = config.Find(name);
            if (option is null)
            {
                c.Error($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'");
                return;
            }
            if (option.Flags.HasFlag(ConfigFlags.Immutable)
                || (option.Flags.HasFlag(ConfigFlags.Protected) && !c.Server.AllowsProtected(config.EnableProtectedConfigs, c.Session)))
            {
                Fail(c, name, option.Flags.HasFlag(ConfigFlags.Immutable) ? "can't set immutable config" : "can't set protected config");
                return;
            }
            if (Array.IndexOf(options, option, 0, i) >= 0)
            {
                Fail(c, name, "duplicate parameter");
                return;
            }
            options[i] = option;
            values[i] = Encoding.UTF8.GetString(c.Arg(3 + (i * 2)));
        }
        var old = options.Select(o => o.Format()).ToArray();
        for (var i = 0; i < count; i++)
        {
            var args = options[i].Flags.HasFlag(ConfigFlags.MultiArgument)
                ? values[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                : [values[i]];
            var error = options[i].TrySet(args, fromFile: false);
            if (error is not null)
            {
                Restore(options, old, i);
                Fail(c, options[i].Name, error);
                return;
            }
        }
        for (var i = 0; i < count; i++)
        {
            try
            {
                if (options[i].Format() != old[i])
                {
                    options[i].Changed?.Invoke();
                }
            }
            catch (Exception e) when (e is ConfigApplyException or IOException)
            {
                // As Redis: every value goes back, and what was applied before the failure is applied again.
                Restore(options, old, count);
                for (var j = 0; j < i; j++)
                {
                    options[j].Changed?.Invoke();
                }
                Fail(c, options[i].Name, e.Message);
                return;
            }
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Restore(ConfigOption[] options, string[] old, int upTo)
    {
        for (var j = 0; j <= Math.Min(upTo, options.Length - 1); j++)
        {
            var args = options[j].Flags.HasFlag(ConfigFlags.MultiArgument) ? old[j].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [old[j]];
            options[j].TrySet(args, fromFile: false);
        }
    }

    private static void Fail(CommandContext c, string name, string reason)
        => c.Error($"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}");

    private static void ResetStat(CommandContext c)
    {
        var server = c.Server;
        server.Stats.Reset();
        foreach (var command in server.Commands.All)
        {
            command.ResetStats();
        }
        server.Keyspace.ResetStats();
        server.Slowlog.Reset();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Rewrite(CommandContext c)
    {
        var path = c.Server.ConfigFile;
        if (path is null)
        {
            c.Error("ERR The server is running without a config file");
            return;
        }
        try
        {
            ConfigRewriter.Rewrite(path, c.Server.Config);
            c.Reply.WriteLiteral(Replies.Ok);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            c.Error("ERR Rewriting config file: " + e.Message);
        }
    }
}
