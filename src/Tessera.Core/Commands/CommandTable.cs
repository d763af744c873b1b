using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Tessera.Core.Commands;

/// <summary>
/// Redis 7.0's command table, read once from the embedded <c>commands.json</c> (produced from the reference server's
/// COMMAND INFO and COMMAND DOCS by <c>tools/dump-command-table.py</c>). Lookups by name are case-insensitive and
/// allocation-free.
/// </summary>
public sealed class CommandTable
{
    private static readonly Lazy<CommandTable> Default = new(Load);

    private readonly Dictionary<string, CommandInfo> _commands;
    private readonly Dictionary<string, CommandInfo>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    private CommandTable(IEnumerable<CommandInfo> commands)
    {
        _commands = new Dictionary<string, CommandInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var command in commands)
        {
            _commands[command.Name] = command;
        }
        _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();
        All = [.. _commands.Values.OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>The table of every Redis 7.0 command.</summary>
    public static CommandTable Redis => Default.Value;

    /// <summary>All top-level commands, by name.</summary>
    public IReadOnlyList<CommandInfo> All { get; }

    /// <summary>Number of top-level commands.</summary>
    public int Count => _commands.Count;

    /// <summary>Number of commands and subcommands: the bound of <see cref="CommandInfo.Index"/>.</summary>
    public int IndexCount { get; private set; }

    /// <summary>The command named <paramref name="name"/> in any case, or null.</summary>
    public CommandInfo? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length > 64)
        {
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        Encoding.Latin1.GetChars(name, chars);
        return _lookup.TryGetValue(chars, out var info) ? info : null;
    }

    /// <summary>The command named <paramref name="name"/>, or null.</summary>
    public CommandInfo? Find(string name) => _commands.GetValueOrDefault(name);

    /// <summary>A table holding only the commands <paramref name="keep"/> selects (subcommands follow their parent).</summary>
    public CommandTable Where(Func<CommandInfo, bool> keep) => new(All.Where(keep)) { IndexCount = IndexCount };

    private static CommandTable Load()
    {
        using var stream = typeof(CommandTable).Assembly.GetManifestResourceStream("Tessera.Core.commands.json")
            ?? throw new InvalidOperationException("the command table resource is missing");
        using var document = JsonDocument.Parse(stream);
        var id = 0;
        var nextIndex = new StrongBox<int>(0);
        var table = new CommandTable([.. document.RootElement.EnumerateArray().Select(e => new CommandInfo(e, null, id++, nextIndex))]);
        table.IndexCount = nextIndex.Value;
        return table;
    }
}
