using System.Text;
using Tessera.Core.Commands;
using Tessera.Core.Text;
using Tessera.Resp;

namespace Tessera.Server.Acl;

/// <summary>Read and write permission on the keys a pattern matches (<c>%R~</c>, <c>%W~</c>, <c>~</c>).</summary>
[Flags]
internal enum KeyPermission
{
    None = 0,
    Read = 1,
    Write = 2,
    All = Read | Write,
}

/// <summary>Why SETUSER refused a rule; each has Redis's message.</summary>
internal enum AclRuleError
{
    None,
    Syntax,
    UnknownCommand,
    PatternAfterAllKeys,
    PatternAfterAllChannels,
    NoSuchPassword,
    BadPasswordHash,
    FirstArgOfSubcommand,
}

/// <summary>
/// One set of permissions (Redis's aclSelector): the commands allowed (a bit per command and subcommand, plus one
/// for commands to come, set only by +@all), the key patterns with their read/write permission, the channel
/// patterns, and the deprecated "+command|first-arg" allowances. A user has a root selector and maybe more; a
/// command runs when any selector allows it.
/// </summary>
internal sealed class AclSelector
{
    private static readonly int FutureBit = CommandTable.Redis.IndexCount;

    private readonly ulong[] _commands = new ulong[(FutureBit / 64) + 1];
    private readonly List<(byte[] Pattern, KeyPermission Permission)> _keys = [];
    private readonly List<byte[]> _channels = [];
    private Dictionary<int, List<string>>? _firstArgs;

    public AclSelector(bool allChannels) => AllChannels = allChannels;

    private AclSelector(AclSelector other)
    {
        other._commands.CopyTo(_commands, 0);
        _keys.AddRange(other._keys);
        _channels.AddRange(other._channels);
        _firstArgs = other._firstArgs?.ToDictionary(e => e.Key, e => new List<string>(e.Value));
        AllKeys = other.AllKeys;
        AllChannels = other.AllChannels;
        AllCommands = other.AllCommands;
    }

    /// <summary>Any key, in any way (<c>~*</c>, allkeys).</summary>
    public bool AllKeys { get; private set; }

    /// <summary>Any channel (<c>&amp;*</c>, allchannels).</summary>
    public bool AllChannels { get; private set; }

    /// <summary>Every command, with nothing taken away since +@all.</summary>
    public bool AllCommands { get; private set; }

    /// <summary>True when the selector lets anything run: the common case skips all checks.</summary>
    public bool Unrestricted => AllCommands && AllKeys && AllChannels;

    public AclSelector Clone() => new(this);

    /// <summary>Applies one rule (ACLSetSelector); on failure nothing changed and the reason is returned.</summary>
    public AclRuleError Apply(string op)
    {
        if (op.Equals("allkeys", StringComparison.OrdinalIgnoreCase) || op == "~*")
        {
            AllKeys = true;
            _keys.Clear();
        }
        else if (op.Equals("resetkeys", StringComparison.OrdinalIgnoreCase))
        {
            AllKeys = false;
            _keys.Clear();
        }
        else if (op.Equals("allchannels", StringComparison.OrdinalIgnoreCase) || op == "&*")
        {
            AllChannels = true;
            _channels.Clear();
        }
        else if (op.Equals("resetchannels", StringComparison.OrdinalIgnoreCase))
        {
            AllChannels = false;
            _channels.Clear();
        }
        else if (op.Equals("allcommands", StringComparison.OrdinalIgnoreCase) || op.Equals("+@all", StringComparison.OrdinalIgnoreCase))
        {
            Array.Fill(_commands, ulong.MaxValue);
            AllCommands = true;
            _firstArgs = null;
        }
        else if (op.Equals("nocommands", StringComparison.OrdinalIgnoreCase) || op.Equals("-@all", StringComparison.OrdinalIgnoreCase))
        {
            Array.Clear(_commands);
            AllCommands = false;
            _firstArgs = null;
        }
        else if (op.StartsWith('~') || op.StartsWith('%'))
        {
            return AddKeyPattern(op);
        }
        else if (op.StartsWith('&'))
        {
            return AddChannel(op);
        }
        else if (op.Length > 1 && op[1] == '@' && op[0] is '+' or '-')
        {
            var category = AclCategories.Find(op.AsSpan(2));
            if (category == 0)
            {
                return AclRuleError.UnknownCommand;
            }
            SetCategory(category, op[0] == '+');
        }
        else if (op.StartsWith('+'))
        {
            return Allow(op[1..]);
        }
        else if (op.StartsWith('-'))
        {
            var command = Lookup(op[1..]);
            if (command is null)
            {
                return AclRuleError.UnknownCommand;
            }
            Change(command, allow: false);
        }
        else
        {
            return AclRuleError.Syntax;
        }
        return AclRuleError.None;
    }

    private AclRuleError AddKeyPattern(string op)
    {
        if (AllKeys)
        {
            return AclRuleError.PatternAfterAllKeys;
        }
        var permission = KeyPermission.All;
        var offset = 1;
        if (op[0] == '%')
        {
            permission = KeyPermission.None;
            for (; offset < op.Length; offset++)
            {
                var c = char.ToUpperInvariant(op[offset]);
                if (c == 'R' && (permission & KeyPermission.Read) == 0)
                {
                    permission |= KeyPermission.Read;
                }
                else if (c == 'W' && (permission & KeyPermission.Write) == 0)
                {
                    permission |= KeyPermission.Write;
                }
                else if (c == '~')
                {
                    offset++;
                    break;
                }
                else
                {
                    return AclRuleError.Syntax;
                }
            }
        }
        var pattern = op[offset..];
        if (permission == KeyPermission.None || HasSpaces(pattern))
        {
            return AclRuleError.Syntax;
        }
        var bytes = Encoding.Latin1.GetBytes(pattern);
        var existing = _keys.FindIndex(k => k.Pattern.AsSpan().SequenceEqual(bytes));
        if (existing < 0)
        {
            _keys.Add((bytes, permission));
        }
        else
        {
            _keys[existing] = (bytes, _keys[existing].Permission | permission);
        }
        AllKeys = false;
        return AclRuleError.None;
    }

    private AclRuleError AddChannel(string op)
    {
        if (AllChannels)
        {
            return AclRuleError.PatternAfterAllChannels;
        }
        if (HasSpaces(op[1..]))
        {
            return AclRuleError.Syntax;
        }
        var bytes = Encoding.Latin1.GetBytes(op[1..]);
        if (!_channels.Any(c => c.AsSpan().SequenceEqual(bytes)))
        {
            _channels.Add(bytes);
        }
        return AclRuleError.None;
    }

    /// <summary>"+name": a command, a subcommand ("config|get"), or a first argument of a plain command ("select|0").</summary>
    private AclRuleError Allow(string name)
    {
        var bar = name.LastIndexOf('|');
        if (bar < 0)
        {
            var plain = Lookup(name);
            if (plain is null)
            {
                return AclRuleError.UnknownCommand;
            }
            Change(plain, allow: true);
            return AclRuleError.None;
        }
        var command = Lookup(name[..bar]);
        var first = name[(bar + 1)..];
        if (command is null)
        {
            return AclRuleError.UnknownCommand;
        }
        if (command.Parent is not null)
        {
            return AclRuleError.FirstArgOfSubcommand;
        }
        if (first.Length == 0)
        {
            return AclRuleError.Syntax;
        }
        if (command.HasSubcommands)
        {
            var sub = Lookup(name);
            if (sub is null)
            {
                return AclRuleError.UnknownCommand;
            }
            Change(sub, allow: true);
            return AclRuleError.None;
        }
        // Deprecated in Redis, still accepted: the command only with this first argument.
        _firstArgs ??= [];
        if (!_firstArgs.TryGetValue(command.Index, out var allowed))
        {
            allowed = [];
            _firstArgs[command.Index] = allowed;
        }
        if (!allowed.Contains(first, StringComparer.OrdinalIgnoreCase))
        {
            allowed.Add(first);
        }
        return AclRuleError.None;
    }

    /// <summary>Redis's ACLLookupCommand: "name" or "container|sub", any case.</summary>
    private static CommandInfo? Lookup(string name)
    {
        var parts = name.Split('|');
        var command = parts.Length <= 2 ? CommandTable.Redis.Find(parts[0]) : null;
        if (command is null || parts.Length == 1)
        {
            return command;
        }
        return command.Subcommands.GetValueOrDefault(parts[1]);
    }

    private static bool HasSpaces(string text) => text.Any(c => char.IsWhiteSpace(c) || c == '\0');

    private bool Bit(int index) => (_commands[index / 64] & (1UL << (index % 64))) != 0;

    private void SetBit(int index, bool value)
    {
        if (value)
        {
            _commands[index / 64] |= 1UL << (index % 64);
        }
        else
        {
            _commands[index / 64] &= ~(1UL << (index % 64));
            AllCommands = false;
        }
    }

    /// <summary>Allows or denies a command, and with a container all its subcommands (ACLChangeSelectorPerm).</summary>
    private void Change(CommandInfo command, bool allow)
    {
        SetBit(command.Index, allow);
        _firstArgs?.Remove(command.Index);
        foreach (var sub in command.Subcommands.Values)
        {
            SetBit(sub.Index, allow);
        }
    }

    private void SetCategory(ulong category, bool allow)
    {
        foreach (var command in AclCategories.AllCommands)
        {
            if ((AclCategories.Of(command) & category) != 0)
            {
                Change(command, allow);
            }
        }
    }

    /// <summary>True when the command (by its first argument, for "+select|0" rules) may run.</summary>
    public bool AllowsCommand(CommandInfo command, Request args)
    {
        if (AllCommands || (command.Flags & CommandFlags.NoAuth) != 0 || Bit(command.Index))
        {
            return true;
        }
        var index = command.Parent is null ? 1 : 2;
        if (args.Count <= index || _firstArgs is null || !_firstArgs.TryGetValue(command.Index, out var allowed))
        {
            return false;
        }
        var first = Encoding.Latin1.GetString(args[index]);
        return allowed.Contains(first, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>True when some key pattern grants <paramref name="needed"/> on <paramref name="key"/>.</summary>
    public bool AllowsKey(ReadOnlySpan<byte> key, KeyPermission needed)
    {
        if (AllKeys)
        {
            return true;
        }
        foreach (var (pattern, permission) in _keys)
        {
            if ((permission & needed) == needed && GlobPattern.IsMatch(pattern, key))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// True when <paramref name="channel"/> may be used: matched by an allowed pattern, or for PSUBSCRIBE
    /// (<paramref name="literal"/>) equal to one.
    /// </summary>
    public bool AllowsChannel(ReadOnlySpan<byte> channel, bool literal)
    {
        if (AllChannels)
        {
            return true;
        }
        foreach (var pattern in _channels)
        {
            if (literal ? pattern.AsSpan().SequenceEqual(channel) : GlobPattern.IsMatch(pattern, channel))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The channel patterns (for deciding whom a permission change disconnects).</summary>
    public IReadOnlyList<byte[]> Channels => _channels;

    /// <summary>The key patterns as ACL GETUSER's "keys" field shows them: "~a* %R~b*", or "~*".</summary>
    public string DescribeKeys()
        => AllKeys ? "~*" : string.Join(' ', _keys.Select(k => PatternPrefix(k.Permission) + Encoding.Latin1.GetString(k.Pattern)));

    /// <summary>The channel patterns as ACL GETUSER's "channels" field shows them: "&amp;a &amp;b", or "&amp;*".</summary>
    public string DescribeChannels()
        => AllChannels ? "&*" : string.Join(' ', _channels.Select(c => "&" + Encoding.Latin1.GetString(c)));

    /// <summary>
    /// The whole selector as ACL LIST shows it (ACLDescribeSelector): key patterns, channels (after
    /// "resetchannels" unless all are allowed), then the command rules.
    /// </summary>
    public string Describe()
    {
        var keys = DescribeKeys();
        var channels = AllChannels ? "&*" : ("resetchannels " + DescribeChannels()).TrimEnd();
        return string.Join(' ', keys.Length == 0 ? [channels, DescribeCommands()] : [keys, channels, DescribeCommands()]);
    }

    private static string PatternPrefix(KeyPermission permission) => permission switch
    {
        KeyPermission.Read => "%R~",
        KeyPermission.Write => "%W~",
        _ => "~",
    };

    /// <summary>
    /// The command rules that rebuild this selector's bits, as Redis 7.0 derives them: +@all or -@all, then the
    /// categories that fit best (fewest exceptions, then most commands), then single commands for the rest.
    /// </summary>
    public string DescribeCommands()
    {
        var additive = !Bit(FutureBit);
        var rules = new StringBuilder(additive ? "-@all" : "+@all");
        var rebuilt = new AclSelector(false);
        rebuilt.Apply(additive ? "-@all" : "+@all");
        var remaining = Clone();
        var applied = new bool[AclCategories.Names.Length];
        while (true)
        {
            var best = -1;
            var minDiff = long.MaxValue;
            long maxSame = 0;
            for (var j = 0; j < AclCategories.Names.Length; j++)
            {
                if (applied[j])
                {
                    continue;
                }
                var (on, off) = remaining.Count(1UL << j);
                var diff = additive ? off : on;
                var same = additive ? on : off;
                if (same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)))
                {
                    (best, minDiff, maxSame) = (j, diff, same);
                }
            }
            if (best < 0)
            {
                break;
            }
            rebuilt.SetCategory(1UL << best, additive);
            remaining.SetCategory(1UL << best, !additive);
            rules.Append(additive ? " +@" : " -@").Append(AclCategories.Names[best]);
            applied[best] = true;
        }
        foreach (var command in AclCategories.AllCommands)
        {
            var allowed = Bit(command.Index);
            if (allowed != rebuilt.Bit(command.Index))
            {
                rules.Append(allowed ? " +" : " -").Append(command.FullName);
                rebuilt.Change(command, allowed);
            }
            if (!allowed && _firstArgs is not null && _firstArgs.TryGetValue(command.Index, out var firsts))
            {
                foreach (var first in firsts)
                {
                    rules.Append(" +").Append(command.FullName).Append('|').Append(first);
                }
            }
        }
        return rules.ToString();
    }

    private (long On, long Off) Count(ulong category)
    {
        long on = 0;
        long off = 0;
        foreach (var command in AclCategories.AllCommands)
        {
            if ((AclCategories.Of(command) & category) != 0)
            {
                if (Bit(command.Index))
                {
                    on++;
                }
                else
                {
                    off++;
                }
            }
        }
        return (on, off);
    }
}
