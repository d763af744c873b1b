using System.Text;
using Tessera.Core.Commands;

namespace Tessera.Server.Commands;

/// <summary>
/// The node's dispatch table: each family file (StringCommands, KeyCommands ...) registers its handlers against
/// the metadata of <see cref="CommandTable.Redis"/>, so a handler cannot exist without its arity, flags and key
/// specs. Lookups are case-insensitive and allocation-free. rename-command renames or removes entries.
/// </summary>
internal sealed class CommandRegistry : ICommandRegistration
{
    private readonly Dictionary<string, ServerCommand> _commands = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, ServerCommand>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public CommandRegistry() => _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Registered top-level commands.</summary>
    public IEnumerable<ServerCommand> All => _commands.Values;

    /// <summary>True when Redis knows a command by this name (for rename-command validation).</summary>
    public static bool Exists(string name) => CommandTable.Redis.Find(name) is not null;

    /// <summary>Registers <paramref name="handler"/> for "name" or "container|sub".</summary>
    public void Add(string fullName, CommandHandler handler)
    {
        var bar = fullName.IndexOf('|');
        if (bar < 0)
        {
            var info = CommandTable.Redis.Find(fullName) ?? throw new InvalidOperationException("no metadata for " + fullName);
            if (_commands.TryGetValue(info.Name, out var container))
            {
                // A container that also runs bare (COMMAND without a subcommand).
                container.Handler = handler;
                return;
            }
            _commands[info.Name] = new ServerCommand(info, handler);
            return;
        }
        var parentName = fullName[..bar];
        if (!_commands.TryGetValue(parentName, out var parent))
        {
            var parentInfo = CommandTable.Redis.Find(parentName) ?? throw new InvalidOperationException("no metadata for " + parentName);
            parent = new ServerCommand(parentInfo, null);
            _commands[parentName] = parent;
        }
        var subInfo = parent.Info.FindSubcommand(Encoding.ASCII.GetBytes(fullName[(bar + 1)..]))
            ?? throw new InvalidOperationException("no metadata for " + fullName);
        parent.AddSubcommand(new ServerCommand(subInfo, handler));
    }

    void ICommandRegistration.Add(string fullName, Action<ICommandContext> handler) => Add(fullName, c => handler(c));

    /// <summary>Gives a command the flags its arguments decide (see <see cref="ServerCommand.FlagsFor"/>).</summary>
    public void SetFlagsFor(string name, Func<CommandInfo, Tessera.Resp.Request, CommandFlags> flags) => _commands[name].FlagsFor = flags;

    /// <summary>
    /// Lets an allow_busy command run while a script is busy, through <paramref name="handler"/> (default: its
    /// own handler, which must then touch only the client's own state and thread-safe parts of the node).
    /// </summary>
    public void AddWhileBusy(string fullName, CommandHandler? handler = null)
    {
        var bar = fullName.IndexOf('|');
        var command = _commands[bar < 0 ? fullName : fullName[..bar]];
        if (bar >= 0)
        {
            command = command.Subcommands[fullName[(bar + 1)..]];
        }
        if ((command.Info.Flags & CommandFlags.AllowBusy) == 0)
        {
            throw new InvalidOperationException(fullName + " is not allowed while a script is busy");
        }
        command.WhileBusy = handler ?? command.Handler;
    }

    /// <summary>The command named <paramref name="name"/>, or null.</summary>
    public ServerCommand? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length > 64)
        {
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        Encoding.Latin1.GetChars(name, chars);
        return _lookup.TryGetValue(chars, out var command) ? command : null;
    }

    /// <summary>The command or subcommand with this full name ("get", "config|get"), or null.</summary>
    public ServerCommand? FindByFullName(string fullName)
    {
        var bar = fullName.IndexOf('|');
        if (bar < 0)
        {
            return _commands.GetValueOrDefault(fullName);
        }
        return _commands.GetValueOrDefault(fullName[..bar])?.Subcommands.GetValueOrDefault(fullName[(bar + 1)..]);
    }

    /// <summary>True when <paramref name="info"/> is served (for COMMAND's listings).</summary>
    public bool Serves(CommandInfo info) => FindByFullName(info.FullName) is not null;

    /// <summary>Applies rename-command: a new name, or "" to disable the command.</summary>
    public void Rename(string name, string newName)
    {
        if (!_commands.Remove(name, out var command))
        {
            return;
        }
        if (newName.Length > 0)
        {
            _commands[newName] = command;
        }
        _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();
    }
}
