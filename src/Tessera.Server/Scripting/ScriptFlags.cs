using System.Text;
using Tessera.Core.Commands;

namespace Tessera.Server.Scripting;

/// <summary>
/// What a script declares about itself (Redis's scripts_flags_def): a function in its registration, an EVAL script
/// on a "#!lua flags=..." first line. An EVAL script without that line runs in Redis 6's compatibility mode.
/// </summary>
[Flags]
internal enum ScriptFlags
{
    None = 0,
    NoWrites = 1,
    AllowOom = 2,
    AllowStale = 4,
    NoCluster = 8,
    AllowCrossSlot = 16,
    EvalCompatibility = 32,
}

/// <summary>The flags' names, the EVAL shebang, and what the flags make of EVAL's and FCALL's command flags.</summary>
internal static class ScriptFlagNames
{
    /// <summary>The names in Redis's order, the order FUNCTION LIST shows them in.</summary>
    public static readonly (string Name, ScriptFlags Flag)[] All =
    [
        ("no-writes", ScriptFlags.NoWrites),
        ("allow-oom", ScriptFlags.AllowOom),
        ("allow-stale", ScriptFlags.AllowStale),
        ("no-cluster", ScriptFlags.NoCluster),
        ("allow-cross-slot-keys", ScriptFlags.AllowCrossSlot),
    ];

    /// <summary>The flag named <paramref name="name"/>, or None.</summary>
    public static ScriptFlags Parse(string name, StringComparison comparison)
    {
        foreach (var (flagName, flag) in All)
        {
            if (flagName.Equals(name, comparison))
            {
                return flag;
            }
        }
        return ScriptFlags.None;
    }

    public static IEnumerable<string> Names(ScriptFlags flags) => All.Where(f => (flags & f.Flag) != 0).Select(f => f.Name);

    /// <summary>
    /// An EVAL script's flags from its "#!lua flags=a,b" first line (evalExtractShebangFlags), and that line's length
    /// (0 without one); or Redis's error for a malformed line.
    /// </summary>
    public static string? FromShebang(ReadOnlySpan<byte> body, out ScriptFlags flags, out int shebangLength)
    {
        flags = ScriptFlags.EvalCompatibility;
        shebangLength = 0;
        if (!body.StartsWith("#!"u8))
        {
            return null;
        }
        var newline = body.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return "ERR Invalid script shebang";
        }
        var parts = Resp.InlineSplitter.SplitWords(body[..newline]);
        if (parts is not { Length: > 0 })
        {
            return "ERR Invalid engine in script shebang";
        }
        var words = parts.Select(Encoding.Latin1.GetString).ToArray();
        if (words[0] != "#!lua")
        {
            return "ERR Unexpected engine in script shebang: " + words[0];
        }
        flags = ScriptFlags.None;
        foreach (var word in words.Skip(1))
        {
            if (!word.StartsWith("flags=", StringComparison.Ordinal))
            {
                return "ERR Unknown lua shebang option: " + word;
            }
            // sdssplitlen: "flags=" alone is no flag at all, "a,,b" has an empty one.
            var list = word[6..];
            foreach (var name in list.Length == 0 ? [] : list.Split(','))
            {
                var flag = Parse(name, StringComparison.Ordinal);
                if (flag == ScriptFlags.None)
                {
                    return "ERR Unexpected flag in script shebang: " + name;
                }
                flags |= flag;
            }
        }
        shebangLength = newline;
        return null;
    }

    /// <summary>
    /// The command flags of EVAL or FCALL running a script with <paramref name="flags"/> (scriptFlagsToCmdFlags):
    /// declared flags replace the command's own write, deny-oom and stale flags.
    /// </summary>
    public static CommandFlags CommandFlags(CommandFlags command, ScriptFlags flags)
    {
        if ((flags & ScriptFlags.EvalCompatibility) != 0)
        {
            return command;
        }
        command &= ~(Core.Commands.CommandFlags.Stale | Core.Commands.CommandFlags.DenyOom | Core.Commands.CommandFlags.Write
            | Core.Commands.CommandFlags.MayReplicate);
        if ((flags & (ScriptFlags.AllowOom | ScriptFlags.NoWrites)) == 0)
        {
            command |= Core.Commands.CommandFlags.DenyOom;
        }
        if ((flags & ScriptFlags.NoWrites) == 0)
        {
            command |= Core.Commands.CommandFlags.Write;
        }
        if ((flags & ScriptFlags.AllowStale) != 0)
        {
            command |= Core.Commands.CommandFlags.Stale;
        }
        return command;
    }
}
