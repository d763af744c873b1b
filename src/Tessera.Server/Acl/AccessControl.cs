using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Config;

namespace Tessera.Server.Acl;

/// <summary>
/// The node's users and what they may do (Redis's acl.c): the users by name, the "default" user that new
/// connections start as (its password is <c>requirepass</c>), permission checks for every command, the ACL LOG,
/// and the ACL file. Used under the execution lock.
/// </summary>
internal sealed class AccessControl
{
    private readonly ServerConfig _config;
    private readonly SortedDictionary<string, AclUser> _users = new(StringComparer.Ordinal);
    private readonly List<(int Position, KeyPermission Needed)> _keys = [];
    private readonly List<int> _positions = [];

    public AccessControl(ServerConfig config)
    {
        _config = config;
        Default = CreateDefault();
        _users[Default.Name] = Default;
        UpdateDefaultPassword();
    }

    /// <summary>The user connections start as.</summary>
    public AclUser Default { get; }

    public AclLog Log { get; } = new();

    /// <summary>Users in name order (ACL USERS, ACL LIST, ACL SAVE).</summary>
    public IEnumerable<AclUser> Users => _users.Values;

    /// <summary>True when a new connection must AUTH before anything else (Redis's authRequired).</summary>
    public bool AuthRequired => !Default.NoPass || !Default.Enabled;

    private bool AllChannelsByDefault => _config.AclPubsubDefault.Value == "allchannels";

    public AclUser? Find(string name) => _users.GetValueOrDefault(name);

    /// <summary>The user if <paramref name="password"/> opens it and it is on, else null.</summary>
    public AclUser? Authenticate(string name, ReadOnlySpan<byte> password)
        => Find(name) is { Enabled: true } user && user.Accepts(password) ? user : null;

    /// <summary><c>requirepass</c> changed: it becomes the default user's only password, or nopass when empty.</summary>
    public void UpdateDefaultPassword()
    {
        Default.Apply("resetpass", AllChannelsByDefault);
        var password = _config.RequirePass.Value;
        Default.Apply(password.Length > 0 ? ">" + password : "nopass", AllChannelsByDefault);
    }

    /// <summary>
    /// ACL SETUSER: applies <paramref name="rules"/> to a copy of the user (created if missing) and keeps the copy
    /// only if every rule is valid. Returns the error text, or null with the changed user.
    /// </summary>
    public string? SetUser(string name, IReadOnlyList<string> rules, out AclUser? changed)
    {
        changed = null;
        if (!TryMergeSelectors(rules, out var merged, out var unmatched))
        {
            return $"ERR Unmatched parenthesis in acl selector starting at '{unmatched}'.";
        }
        var existing = Find(name);
        var staged = new AclUser(name, AllChannelsByDefault);
        if (existing is not null)
        {
            staged.CopyFrom(existing);
        }
        foreach (var rule in merged)
        {
            var error = staged.Apply(rule, AllChannelsByDefault);
            if (error != AclRuleError.None)
            {
                return $"ERR Error in ACL SETUSER modifier '{rule}': {Message(error)}";
            }
        }
        if (existing is null)
        {
            existing = new AclUser(name, AllChannelsByDefault);
            _users[name] = existing;
        }
        existing.CopyFrom(staged);
        changed = existing;
        return null;
    }

    /// <summary>Removes a user (never "default"); true when it existed.</summary>
    public bool Delete(string name) => name != Default.Name && _users.Remove(name);

    /// <summary>
    /// Joins rules split by spaces inside parentheses back into one selector rule ("(+get", "~k*)" becomes
    /// "(+get ~k*)"); false with the opening argument when a parenthesis is left open.
    /// </summary>
    private static bool TryMergeSelectors(IReadOnlyList<string> rules, out List<string> merged, out string unmatched)
    {
        merged = [];
        unmatched = "";
        StringBuilder? open = null;
        foreach (var rule in rules)
        {
            if (open is null && rule.StartsWith('(') && !rule.EndsWith(')'))
            {
                open = new StringBuilder(rule);
                unmatched = rule;
                continue;
            }
            if (open is not null)
            {
                open.Append(' ').Append(rule);
                if (rule.EndsWith(')'))
                {
                    merged.Add(open.ToString());
                    open = null;
                }
                continue;
            }
            merged.Add(rule);
        }
        return open is null;
    }

    /// <summary>Redis's ACLSetUserStringError texts.</summary>
    public static string Message(AclRuleError error) => error switch
    {
        AclRuleError.UnknownCommand => "Unknown command or category name in ACL",
        AclRuleError.Syntax => "Syntax error",
        AclRuleError.PatternAfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        AclRuleError.PatternAfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        AclRuleError.NoSuchPassword => "The password you are trying to remove from the user does not exist",
        AclRuleError.BadPasswordHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        AclRuleError.FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        _ => "Wrong format",
    };

    /// <summary>
    /// May <paramref name="user"/> run <paramref name="command"/> with <paramref name="args"/> (name at 0)?
    /// Any selector allowing it is enough; otherwise the most relevant denial and the argument it concerns.
    /// </summary>
    public AclDenial Check(AclUser user, CommandInfo command, Request args, out int position)
    {
        position = 0;
        if (user.Unrestricted)
        {
            return AclDenial.None;
        }
        var keysFound = false;
        var relevant = AclDenial.Command;
        foreach (var selector in user.Selectors)
        {
            var denial = CheckSelector(selector, command, args, ref keysFound, out var at);
            if (denial == AclDenial.None)
            {
                return AclDenial.None;
            }
            if (denial > relevant || (denial == relevant && at > position))
            {
                (relevant, position) = (denial, at);
            }
        }
        return relevant;
    }

    private AclDenial CheckSelector(AclSelector selector, CommandInfo command, Request args, ref bool keysFound, out int position)
    {
        position = 0;
        if (!selector.AllowsCommand(command, args))
        {
            return AclDenial.Command;
        }
        if (!selector.AllKeys && command.HasKeys)
        {
            if (!keysFound)
            {
                FindKeys(command, args);
                keysFound = true;
            }
            foreach (var (at, needed) in _keys)
            {
                if (!selector.AllowsKey(args[at], needed))
                {
                    position = at;
                    return AclDenial.Key;
                }
            }
        }
        // PUBLISH/SPUBLISH name one channel, (S)SUBSCRIBE several; PSUBSCRIBE's patterns must equal an allowed one.
        if (!selector.AllChannels && command.Parent is null && command.Name is "publish" or "spublish" or "subscribe" or "ssubscribe" or "psubscribe")
        {
            var last = command.Name is "publish" or "spublish" ? 1 : args.Count - 1;
            for (var i = 1; i <= last; i++)
            {
                if (!selector.AllowsChannel(args[i], literal: command.Name == "psubscribe"))
                {
                    position = i;
                    return AclDenial.Channel;
                }
            }
        }
        return AclDenial.None;
    }

    /// <summary>The command's keys with the permission each needs: read to access, write to insert, update or delete.</summary>
    private void FindKeys(CommandInfo command, Request args)
    {
        _keys.Clear();
        _positions.Clear();
        KeyExtractor.GetKeys(command, args, 0, _positions);
        foreach (var position in _positions)
        {
            var needed = KeyPermission.None;
            foreach (var flag in KeyExtractor.FlagsOf(command, args, 0, position))
            {
                if (flag.Equals("access", StringComparison.OrdinalIgnoreCase))
                {
                    needed |= KeyPermission.Read;
                }
                else if (flag.Equals("insert", StringComparison.OrdinalIgnoreCase) || flag.Equals("delete", StringComparison.OrdinalIgnoreCase)
                    || flag.Equals("update", StringComparison.OrdinalIgnoreCase))
                {
                    needed |= KeyPermission.Write;
                }
            }
            _keys.Add((position, needed));
        }
    }

    /// <summary>
    /// ACL LOAD and start-up with <c>aclfile</c>: replaces all users with the file's, or changes nothing and
    /// returns the errors (Redis's ACLLoadFromFile messages).
    /// </summary>
    public string? LoadFile(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllText(path).Split('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"Error loading ACLs, opening file '{path}': {e.Message}";
        }
        var loaded = new SortedDictionary<string, AclUser>(StringComparer.Ordinal);
        var errors = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0)
            {
                continue;
            }
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words[0] != "user" || words.Length < 2)
            {
                errors.Append($"{path}:{i + 1} should start with user keyword followed by the username. ");
                continue;
            }
            if (loaded.ContainsKey(words[1]))
            {
                errors.Append($"WARNING: Duplicate user '{words[1]}' found on line {i + 1}. ");
                continue;
            }
            var user = new AclUser(words[1], AllChannelsByDefault);
            loaded[user.Name] = user;
            if (!TryMergeSelectors(words[2..], out var rules, out _))
            {
                errors.Append($"{path}:{i + 1}: Unmatched parenthesis in selector definition.");
                continue;
            }
            foreach (var rule in rules)
            {
                var error = user.Apply(rule, AllChannelsByDefault);
                if (error != AclRuleError.None)
                {
                    errors.Append($"{path}:{i + 1}: {Message(error)}. ");
                }
            }
        }
        if (errors.Length > 0)
        {
            return errors.Append("WARNING: ACL errors detected, no change to the previously active ACL rules was performed").ToString();
        }
        // The default user object stays: connections keep pointing at it.
        Default.CopyFrom(loaded.GetValueOrDefault(Default.Name) ?? CreateDefault());
        loaded[Default.Name] = Default;
        _users.Clear();
        foreach (var (name, user) in loaded)
        {
            _users[name] = user;
        }
        return null;
    }

    /// <summary>
    /// Users defined by <c>user</c> lines of the config file, applied at start-up (a failure stops the server,
    /// as in Redis). Returns the error, or null.
    /// </summary>
    public string? LoadConfigured(IEnumerable<IReadOnlyList<string>> definitions)
    {
        foreach (var definition in definitions)
        {
            var name = definition[0];
            if (!_users.TryGetValue(name, out var user))
            {
                user = new AclUser(name, AllChannelsByDefault);
                _users[name] = user;
            }
            else
            {
                user.Apply("reset", AllChannelsByDefault);
            }
            if (!TryMergeSelectors([.. definition.Skip(1)], out var rules, out var unmatched))
            {
                return $"Unmatched parenthesis in acl selector starting at '{unmatched}'.";
            }
            foreach (var rule in rules)
            {
                var error = user.Apply(rule, AllChannelsByDefault);
                if (error != AclRuleError.None)
                {
                    return $"Error loading ACL rule '{rule}' for the user named '{name}': {Message(error)}";
                }
            }
        }
        return null;
    }

    /// <summary>ACL SAVE: every user as a "user" line, written to a temporary file and renamed over the ACL file.</summary>
    public bool SaveFile(string path)
    {
        var text = new StringBuilder();
        foreach (var user in _users.Values)
        {
            text.Append("user ").Append(user.Name).Append(' ').Append(user.Describe()).Append('\n');
        }
        var temporary = $"{path}.tmp-{Environment.ProcessId}-{Environment.TickCount64}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                file.Write(Encoding.Latin1.GetBytes(text.ToString()));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            return false;
        }
    }

    private AclUser CreateDefault()
    {
        var user = new AclUser("default", AllChannelsByDefault);
        foreach (var rule in (string[])["+@all", "~*", "&*", "on", "nopass"])
        {
            user.Apply(rule, AllChannelsByDefault);
        }
        return user;
    }
}
