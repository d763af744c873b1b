using System.Text;
using Tessera.Resp;

namespace Tessera.Server.Config;

/// <summary>A config file or command-line error, reported the way redis-server reports it before exiting.</summary>
internal sealed class ConfigFileException(int line, string text, string message) : Exception(message)
{
    /// <summary>1-based line in the combined configuration (file lines, then command-line options).</summary>
    public int Line { get; } = line;

    /// <summary>The offending line.</summary>
    public string Text { get; } = text;
}

/// <summary>
/// Reads configuration the way redis-server does: a redis.conf file (with <c>include</c>), then command-line options
/// (<c>--port 7000 --save ""</c>) appended as extra lines, each line split with the inline quoting rules.
/// </summary>
internal sealed class ConfigLoader(ServerConfig config)
{
    // Redis 7.0 silently accepts these removed options.
    private static readonly HashSet<string> Deprecated = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

    private readonly List<string> _warnings = [];

    /// <summary>Options set to a non-default value that Tessera recognises but does not act on yet.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>rename-command directives: original name to new name ("" disables the command).</summary>
    public Dictionary<string, string> RenamedCommands { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>ACL users declared by <c>user name rules...</c> lines, created at start-up.</summary>
    public List<string[]> Users { get; } = [];

    /// <summary>Loads <paramref name="file"/> (may be null) then <paramref name="arguments"/>; throws <see cref="ConfigFileException"/>.</summary>
    public void Load(string? file, IReadOnlyList<string> arguments)
    {
        var text = new StringBuilder();
        if (file is not null)
        {
            text.Append(ReadFile(file));
        }
        text.Append('\n').Append(OptionsFromArguments(arguments));
        LoadString(text.ToString());
        foreach (var option in config.All)
        {
            if (option.Flags.HasFlag(ConfigFlags.NotImplemented) && option.IsModified)
            {
                _warnings.Add(option.Name);
            }
        }
    }

    /// <summary>
    /// Turns "--port 7000 --save" into config lines, as redis-server does: each "--name" starts a line, values are
    /// quoted, and a bare "--save" means an empty save list.
    /// </summary>
    public static string OptionsFromArguments(IReadOnlyList<string> arguments)
    {
        var options = new StringBuilder();
        var lastHadValue = true;
        for (var j = 0; j < arguments.Count; j++)
        {
            var arg = arguments[j];
            if (lastHadValue && arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Length > 0)
                {
                    options.Append('\n');
                }
                options.Append(arg.AsSpan(2)).Append(' ');
                var words = SplitLine(arg);
                if (words is { Length: 1 })
                {
                    lastHadValue = false;
                    var nextIsOption = j != arguments.Count - 1 && arguments[j + 1].StartsWith("--", StringComparison.Ordinal);
                    if (arg.Equals("--save", StringComparison.OrdinalIgnoreCase) && (nextIsOption || j == arguments.Count - 1))
                    {
                        options.Append("\"\"");
                        lastHadValue = true;
                    }
                }
                else
                {
                    lastHadValue = true;
                }
            }
            else
            {
                options.Append(Quote(arg)).Append(' ');
                lastHadValue = true;
            }
        }
        return options.ToString();
    }

    private void LoadString(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var args = SplitLine(line) ?? throw new ConfigFileException(i + 1, line, "Unbalanced quotes in configuration line");
            if (args.Length == 0)
            {
                continue;
            }
            var error = Apply(args);
            if (error is not null)
            {
                throw new ConfigFileException(i + 1, line, error);
            }
        }
    }

    private string? Apply(string[] args)
    {
        var name = args[0].ToLowerInvariant();
        var option = config.Find(name);
        if (option is not null)
        {
            var values = args[1..];
            if (option.Flags.HasFlag(ConfigFlags.MultiArgument))
            {
                if (values.Length == 1 && values[0].Length > 0)
                {
                    values = values[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                }
                if (values.Length == 0)
                {
                    return "wrong number of arguments";
                }
            }
            else if (values.Length != 1)
            {
                return "wrong number of arguments";
            }
            return option.TrySet(values, fromFile: true);
        }
        switch (name)
        {
            case "include" when args.Length == 2:
                LoadString(ReadFile(args[1]));
                return null;
            case "rename-command" when args.Length == 3:
                if (Commands.CommandRegistry.Exists(args[1]))
                {
                    RenamedCommands[args[1]] = args[2];
                    return null;
                }
                return "No such command in rename-command";
            case "user" when args.Length >= 2:
                if (Users.Any(u => u[0] == args[1]))
                {
                    return "Duplicate user found. A user can only be defined once in config files";
                }
                Users.Add(args[1..]);
                return null;
            case "loadmodule" when args.Length >= 2:
                _warnings.Add(name);
                return null;
            default:
                return Deprecated.Contains(name) ? null : "Bad directive or wrong number of arguments";
        }
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException(0, "", $"Fatal error, can't open config file '{path}': {e.Message}");
        }
    }

    /// <summary>Splits a line with Redis's quoting rules; null for unbalanced quotes.</summary>
    private static string[]? SplitLine(string line)
        => InlineSplitter.SplitWords(Encoding.UTF8.GetBytes(line))?.Select(Encoding.UTF8.GetString).ToArray();

    /// <summary>Quotes a value like Redis's sdscatrepr so it survives the line splitter unchanged.</summary>
    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            text.Append(b switch
            {
                (byte)'\\' => "\\\\",
                (byte)'"' => "\\\"",
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'\a' => "\\a",
                (byte)'\b' => "\\b",
                _ when b < 32 || b > 126 => $"\\x{b:x2}",
                _ => ((char)b).ToString(),
            });
        }
        return text.Append('"').ToString();
    }
}
