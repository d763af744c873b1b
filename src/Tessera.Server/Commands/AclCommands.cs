using System.Security.Cryptography;
using System.Text;
using Tessera.Core.Commands;
using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Acl;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>ACL subcommands (Redis's aclCommand in acl.c).</summary>
internal static class AclCommands
{
    private const int GenpassMaxBits = 4096;

    public static void Register(CommandRegistry r)
    {
        r.Add("acl|setuser", SetUser);
        r.Add("acl|getuser", GetUser);
        r.Add("acl|deluser", DeleteUsers);
        r.Add("acl|users", c => ListUsers(c, namesOnly: true));
        r.Add("acl|list", c => ListUsers(c, namesOnly: false));
        r.Add("acl|whoami", c => c.Reply.WriteBulk(Encoding.Latin1.GetBytes(c.Session.User.Name)));
        r.Add("acl|cat", Categories);
        r.Add("acl|genpass", GeneratePassword);
        r.Add("acl|log", Log);
        r.Add("acl|load", Load);
        r.Add("acl|save", Save);
        r.Add("acl|dryrun", DryRun);
        r.Add("acl|help", c => Help.Write(c,
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username."));
    }

    private static string Text(CommandContext c, int index) => Encoding.Latin1.GetString(c.Arg(index));

    private static void SetUser(CommandContext c)
    {
        var name = Text(c, 2);
        if (name.Any(ch => char.IsWhiteSpace(ch) || ch == '\0'))
        {
            c.Error("ERR Usernames can't contain spaces or null characters");
            return;
        }
        var rules = Enumerable.Range(3, c.ArgCount - 3).Select(i => Text(c, i)).ToList();
        var acl = c.Server.Acl;
        var before = acl.Find(name)?.Selectors.SelectMany(s => s.Channels).ToList();
        var error = acl.SetUser(name, rules, out var user);
        if (error is not null)
        {
            c.Error(error);
            return;
        }
        if (before is not null)
        {
            DisconnectRevokedSubscribers(c, user!, before);
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// After a user lost channel patterns (Redis's ACLKillPubsubClientsIfNeeded): its clients subscribed to a
    /// channel or pattern no longer allowed are disconnected.
    /// </summary>
    private static void DisconnectRevokedSubscribers(CommandContext c, AclUser user, List<byte[]> before)
    {
        if (user.Selectors.Any(s => s.AllChannels))
        {
            return;
        }
        var now = user.Selectors.SelectMany(s => s.Channels).ToList();
        if (before.All(old => now.Any(n => n.AsSpan().SequenceEqual(old))))
        {
            return;
        }
        bool Allowed(string name, bool literal)
        {
            var bytes = Encoding.Latin1.GetBytes(name);
            return now.Any(p => literal ? p.AsSpan().SequenceEqual(bytes) : GlobPattern.IsMatch(p, bytes));
        }
        foreach (var session in c.Server.Clients.All.Where(s => s.User == user && s.InPubSubMode).ToList())
        {
            if (session.Subscriptions(SubscriptionKind.Pattern).Any(p => !Allowed(p, literal: true))
                || session.Subscriptions(SubscriptionKind.Channel).Concat(session.Subscriptions(SubscriptionKind.ShardChannel)).Any(ch => !Allowed(ch, literal: false)))
            {
                ClientCommands.Disconnect(session, c.Session);
            }
        }
    }

    private static void GetUser(CommandContext c)
    {
        var user = c.Server.Acl.Find(Text(c, 2));
        if (user is null)
        {
            c.Reply.WriteNullBulk();
            return;
        }
        var w = c.Reply;
        w.WriteMapHeader(6);
        w.WriteBulk("flags"u8);
        var flags = user.Flags().ToList();
        w.WriteSetHeader(flags.Count);
        foreach (var flag in flags)
        {
            w.WriteBulk(Encoding.ASCII.GetBytes(flag));
        }
        w.WriteBulk("passwords"u8);
        w.WriteArrayHeader(user.Passwords.Count);
        foreach (var password in user.Passwords)
        {
            w.WriteBulk(Encoding.ASCII.GetBytes(password));
        }
        WriteSelector(w, user.Root);
        w.WriteBulk("selectors"u8);
        w.WriteArrayHeader(user.Selectors.Count - 1);
        foreach (var selector in user.Selectors.Skip(1))
        {
            w.WriteMapHeader(3);
            WriteSelector(w, selector);
        }
    }

    private static void WriteSelector(RespWriter w, AclSelector selector)
    {
        w.WriteBulk("commands"u8);
        w.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeCommands()));
        w.WriteBulk("keys"u8);
        w.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeKeys()));
        w.WriteBulk("channels"u8);
        w.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeChannels()));
    }

    private static void DeleteUsers(CommandContext c)
    {
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (c.Arg(i).SequenceEqual("default"u8))
            {
                c.Error("ERR The 'default' user cannot be removed");
                return;
            }
        }
        long deleted = 0;
        for (var i = 2; i < c.ArgCount; i++)
        {
            var user = c.Server.Acl.Find(Text(c, i));
            if (user is not null && c.Server.Acl.Delete(user.Name))
            {
                // Its connections go, as in Redis (the current one after this reply).
                foreach (var session in c.Server.Clients.All.Where(s => s.User == user).ToList())
                {
                    session.Deauthenticate(c.Server.Acl.Default);
                    ClientCommands.Disconnect(session, c.Session);
                }
                deleted++;
            }
        }
        c.Reply.WriteInteger(deleted);
    }

    private static void ListUsers(CommandContext c, bool namesOnly)
    {
        var users = c.Server.Acl.Users.ToList();
        c.Reply.WriteArrayHeader(users.Count);
        foreach (var user in users)
        {
            c.Reply.WriteBulk(Encoding.Latin1.GetBytes(namesOnly ? user.Name : $"user {user.Name} {user.Describe()}"));
        }
    }

    private static void Categories(CommandContext c)
    {
        if (c.ArgCount > 3)
        {
            Help.SubcommandSyntaxError(c);
            return;
        }
        if (c.ArgCount == 2)
        {
            c.Reply.WriteArrayHeader(AclCategories.Names.Length);
            foreach (var name in AclCategories.Names)
            {
                c.Reply.WriteBulk(Encoding.ASCII.GetBytes(name));
            }
            return;
        }
        var category = AclCategories.Find(Text(c, 2));
        if (category == 0)
        {
            c.Error($"ERR Unknown category '{CommandReplies.Truncated(c.Arg(2), 128)}'");
            return;
        }
        var members = AclCategories.AllCommands.Where(command => (AclCategories.Of(command) & category) != 0).ToList();
        c.Reply.WriteArrayHeader(members.Count);
        foreach (var command in members)
        {
            c.Reply.WriteBulk(command.FullNameBytes);
        }
    }

    private static void GeneratePassword(CommandContext c)
    {
        if (c.ArgCount > 3)
        {
            Help.SubcommandSyntaxError(c);
            return;
        }
        long bits = 256;
        if (c.ArgCount == 3 && !c.TryGetLong(2, out bits))
        {
            return;
        }
        if (bits <= 0 || bits > GenpassMaxBits)
        {
            c.Error($"ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GenpassMaxBits}");
            return;
        }
        var chars = (int)((bits + 3) / 4);
        var hex = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((chars + 1) / 2));
        c.Reply.WriteBulk(Encoding.ASCII.GetBytes(hex[..chars]));
    }

    private static void Log(CommandContext c)
    {
        if (c.ArgCount > 3)
        {
            Help.SubcommandSyntaxError(c);
            return;
        }
        var log = c.Server.Acl.Log;
        long count = 10;
        if (c.ArgCount == 3)
        {
            if (c.ArgIs(2, "reset"u8))
            {
                log.Clear();
                c.Reply.WriteLiteral(Replies.Ok);
                return;
            }
            if (!c.TryGetLong(2, out count))
            {
                return;
            }
            count = Math.Max(0, count);
        }
        var entries = log.Entries.Take((int)Math.Min(count, log.Count)).ToList();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var w = c.Reply;
        w.WriteArrayHeader(entries.Count);
        foreach (var entry in entries)
        {
            w.WriteMapHeader(7);
            w.WriteBulk("count"u8);
            w.WriteInteger(entry.Count);
            w.WriteBulk("reason"u8);
            w.WriteBulk(Encoding.ASCII.GetBytes(entry.Reason.ToString().ToLowerInvariant()));
            w.WriteBulk("context"u8);
            w.WriteBulk(Encoding.ASCII.GetBytes(entry.Context.ToString().ToLowerInvariant()));
            w.WriteBulk("object"u8);
            w.WriteBulk(Encoding.Latin1.GetBytes(entry.Object));
            w.WriteBulk("username"u8);
            w.WriteBulk(Encoding.Latin1.GetBytes(entry.User));
            w.WriteBulk("age-seconds"u8);
            w.WriteDouble((now - entry.TimeMs) / 1000.0);
            w.WriteBulk("client-info"u8);
            w.WriteBulk(Encoding.Latin1.GetBytes(entry.ClientInfo));
        }
    }

    private static bool RequireAclFile(CommandContext c)
    {
        if (c.Server.Config.AclFile.Value.Length > 0)
        {
            return true;
        }
        c.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.");
        return false;
    }

    private static void Load(CommandContext c)
    {
        if (!RequireAclFile(c))
        {
            return;
        }
        var errors = c.Server.Acl.LoadFile(c.Server.Config.AclFile.Value);
        if (errors is not null)
        {
            c.Error("ERR " + errors);
            return;
        }
        // Users that are gone take their connections with them.
        foreach (var session in c.Server.Clients.All.Where(s => c.Server.Acl.Find(s.User.Name) != s.User).ToList())
        {
            session.Deauthenticate(c.Server.Acl.Default);
            ClientCommands.Disconnect(session, c.Session);
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Save(CommandContext c)
    {
        if (!RequireAclFile(c))
        {
            return;
        }
        if (c.Server.Acl.SaveFile(c.Server.Config.AclFile.Value))
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else
        {
            c.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
        }
    }

    private static void DryRun(CommandContext c)
    {
        var user = c.Server.Acl.Find(Text(c, 2));
        if (user is null)
        {
            c.Error($"ERR User '{Text(c, 2)}' not found");
            return;
        }
        var command = CommandTable.Redis.Find(c.Arg(3));
        if (command is not null && command.HasSubcommands && c.ArgCount > 4)
        {
            command = command.FindSubcommand(c.Arg(4));
        }
        if (command is null)
        {
            c.Error($"ERR Command '{Text(c, 3)}' not found");
            return;
        }
        var args = new Request();
        args.Set([.. Enumerable.Range(3, c.ArgCount - 3).Select(i => c.Args.ToArray(i))]);
        var denial = c.Server.Acl.Check(user, command, args, out var position);
        var message = denial switch
        {
            AclDenial.None => null,
            AclDenial.Command => $"This user has no permissions to run the '{command.FullName}' command",
            AclDenial.Key => $"This user has no permissions to access the '{Encoding.Latin1.GetString(args[position])}' key",
            _ => $"This user has no permissions to access the '{Encoding.Latin1.GetString(args[position])}' channel",
        };
        if (message is null)
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else
        {
            c.Reply.WriteBulk(Encoding.Latin1.GetBytes(message));
        }
    }
}
