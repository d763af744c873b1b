namespace Tessera.Server.Config;

/// <summary>
/// One configuration option: its names, how its value is parsed and formatted, and its default. Parsing failures
/// return Redis's texts ("argument must be 'yes' or 'no'" ...) so CONFIG SET and the config file report errors
/// the same way redis-server does.
/// </summary>
internal abstract class ConfigOption
{
    protected ConfigOption(string name, ConfigFlags flags, string[] aliases)
    {
        Name = name;
        Flags = flags;
        Aliases = aliases;
    }

    /// <summary>The canonical name.</summary>
    public string Name { get; }

    /// <summary>Older names that still work (slaveof, hash-max-ziplist-entries ...).</summary>
    public string[] Aliases { get; }

    public ConfigFlags Flags { get; }

    /// <summary>The default value as CONFIG GET shows it; captured when the table is built.</summary>
    public string DefaultText { get; private set; } = "";

    /// <summary>Called after a successful change, to apply it (rebind, resize, ...).</summary>
    public Action? Changed { get; set; }

    /// <summary>The value as CONFIG GET shows it.</summary>
    public abstract string Format();

    /// <summary>Parses and stores <paramref name="args"/> (one value, or several for multi-argument options).</summary>
    public abstract string? TrySet(string[] args, bool fromFile);

    /// <summary>Records the current value as the default (the table calls it once).</summary>
    public void CaptureDefault() => DefaultText = Format();

    /// <summary>True while the value differs from the default.</summary>
    public bool IsModified => Format() != DefaultText;

    protected static string? RequireOne(string[] args) => args.Length == 1 ? null : "wrong number of arguments";
}

/// <summary>A yes/no option.</summary>
internal sealed class BoolOption(string name, bool value, ConfigFlags flags = ConfigFlags.None, params string[] aliases)
    : ConfigOption(name, flags, aliases)
{
    public bool Value { get; set; } = value;

    public override string Format() => Value ? "yes" : "no";

    public override string? TrySet(string[] args, bool fromFile)
    {
        if (RequireOne(args) is { } arity)
        {
            return arity;
        }
        if (args[0].Equals("yes", StringComparison.OrdinalIgnoreCase))
        {
            Value = true;
        }
        else if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            Value = false;
        }
        else
        {
            return "argument must be 'yes' or 'no'";
        }
        return null;
    }
}

/// <summary>How a numeric option reads its value.</summary>
internal enum NumberKind
{
    /// <summary>A plain integer.</summary>
    Integer,

    /// <summary>Bytes, with optional k/kb/m/mb/g/gb units.</summary>
    Memory,

    /// <summary>Bytes, or a percentage of maxmemory such as "10%".</summary>
    MemoryOrPercent,

    /// <summary>An integer written in octal (unixsocketperm).</summary>
    Octal,
}

/// <summary>An integer option with bounds; memory options understand units.</summary>
internal sealed class NumberOption(string name, long value, long min, long max, NumberKind kind = NumberKind.Integer,
    ConfigFlags flags = ConfigFlags.None, params string[] aliases) : ConfigOption(name, flags, aliases)
{
    public long Value { get; set; } = value;

    /// <summary>For <see cref="NumberKind.MemoryOrPercent"/>: the value is a percentage.</summary>
    public bool IsPercent { get; private set; }

    /// <summary>Clamps accepted values (hz is stored as at most 500).</summary>
    public Func<long, long>? Clamp { get; init; }

    public override string Format()
    {
        if (IsPercent)
        {
            return Value + "%";
        }
        return kind == NumberKind.Octal ? Convert.ToString(Value, 8) : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string? TrySet(string[] args, bool fromFile)
    {
        if (RequireOne(args) is { } arity)
        {
            return arity;
        }
        var text = args[0];
        long parsed;
        var percent = false;
        switch (kind)
        {
            case NumberKind.Memory:
                if (!MemoryUnits.TryParse(text, out parsed))
                {
                    return "argument must be a memory value";
                }
                break;
            case NumberKind.MemoryOrPercent:
                if (text.EndsWith('%'))
                {
                    if (!long.TryParse(text.AsSpan(0, text.Length - 1), out parsed) || parsed < 0)
                    {
                        return "argument must be a memory or percent value";
                    }
                    if (parsed > 100)
                    {
                        return "percentage argument must be less or equal to 100";
                    }
                    percent = true;
                    break;
                }
                if (!MemoryUnits.TryParse(text, out parsed))
                {
                    return "argument must be a memory or percent value";
                }
                break;
            case NumberKind.Octal:
                try
                {
                    parsed = Convert.ToInt64(text, 8);
                }
                catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
                {
                    return "argument couldn't be parsed into an integer";
                }
                break;
            default:
                if (!Resp.RedisInteger.TryParse(System.Text.Encoding.UTF8.GetBytes(text), out parsed))
                {
                    return "argument couldn't be parsed into an integer";
                }
                break;
        }
        if (!percent && (parsed < min || parsed > max))
        {
            return $"argument must be between {min} and {max} inclusive";
        }
        Value = Clamp?.Invoke(parsed) ?? parsed;
        IsPercent = percent;
        return null;
    }
}

/// <summary>One of a fixed set of names; with <c>multiple</c>, a space-separated set of them (shutdown-on-sigterm).</summary>
internal sealed class EnumOption(string name, string[] names, string value, bool multiple = false,
    ConfigFlags flags = ConfigFlags.None, params string[] aliases) : ConfigOption(name, flags, aliases)
{
    public string Value { get; set; } = value;

    public IReadOnlyList<string> Names => names;

    public override string Format() => Value;

    /// <summary>True when the value (or, for multiple values, one of them) is <paramref name="name"/>.</summary>
    public bool Is(string name) => multiple ? Value.Split(' ').Contains(name) : Value == name;

    public override string? TrySet(string[] args, bool fromFile)
    {
        var values = multiple ? args.SelectMany(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray() : args;
        if (!multiple && RequireOne(args) is { } arity)
        {
            return arity;
        }
        var chosen = new List<string>();
        foreach (var v in values)
        {
            var match = names.FirstOrDefault(n => n.Equals(v, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                return "argument(s) must be one of the following: " + string.Join(", ", names);
            }
            chosen.Add(match);
        }
        if (chosen.Count == 0)
        {
            return "argument(s) must be one of the following: " + string.Join(", ", names);
        }
        Value = string.Join(' ', chosen.Distinct());
        return null;
    }
}

/// <summary>A free-form string.</summary>
internal sealed class StringOption(string name, string value, ConfigFlags flags = ConfigFlags.None, params string[] aliases)
    : ConfigOption(name, flags, aliases)
{
    public string Value { get; set; } = value;

    public override string Format() => Value;

    public override string? TrySet(string[] args, bool fromFile)
    {
        if (RequireOne(args) is { } arity)
        {
            return arity;
        }
        Value = args[0];
        return null;
    }
}

/// <summary>An option with its own syntax (save, bind, client-output-buffer-limit, notify-keyspace-events ...).</summary>
internal sealed class CustomOption(string name, Func<string> format, Func<string[], bool, string?> set,
    ConfigFlags flags = ConfigFlags.None, params string[] aliases) : ConfigOption(name, flags, aliases)
{
    public override string Format() => format();

    public override string? TrySet(string[] args, bool fromFile) => set(args, fromFile);
}
