using System.Text;
using Tessera.Core.Commands;
using Tessera.Core.Text;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>COMMAND and its subcommands, answered from the command metadata of the commands this node serves.</summary>
internal static class CommandCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("command", c => WriteInfos(c, c.Server.Commands.All.Select(x => x.Info).OrderBy(i => i.Name, StringComparer.Ordinal).ToList()));
        r.Add("command|count", c => c.Reply.WriteInteger(c.Server.Commands.All.Count()));
        r.Add("command|list", List);
        r.Add("command|info", Info);
        r.Add("command|docs", Docs);
        r.Add("command|getkeys", c => GetKeys(c, withFlags: false));
        r.Add("command|getkeysandflags", c => GetKeys(c, withFlags: true));
        r.Add("command|help", c => Help.Write(c,
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command."));
    }

    private static void WriteInfos(CommandContext c, IReadOnlyList<CommandInfo?> infos)
    {
        var registry = c.Server.Commands;
        c.Reply.WriteArrayHeader(infos.Count);
        foreach (var info in infos)
        {
            if (info is null)
            {
                c.Reply.WriteNullBulk();
            }
            else
            {
                CommandReplies.WriteInfo(c.Reply, info, registry.Serves);
            }
        }
    }

    /// <summary>A served command by full name ("get", "config|get"), or null.</summary>
    private static CommandInfo? Lookup(CommandContext c, ReadOnlySpan<byte> name)
        => c.Server.Commands.FindByFullName(Encoding.UTF8.GetString(name).ToLowerInvariant())?.Info;

    private static void Info(CommandContext c)
    {
        if (c.ArgCount == 2)
        {
            WriteInfos(c, c.Server.Commands.All.Select(x => x.Info).OrderBy(i => i.Name, StringComparer.Ordinal).ToList());
            return;
        }
        var infos = new List<CommandInfo?>();
        for (var i = 2; i < c.ArgCount; i++)
        {
            infos.Add(Lookup(c, c.Arg(i)));
        }
        WriteInfos(c, infos);
    }

    private static void Docs(CommandContext c)
    {
        var infos = new List<CommandInfo>();
        if (c.ArgCount == 2)
        {
            infos.AddRange(c.Server.Commands.All.Select(x => x.Info).OrderBy(i => i.Name, StringComparer.Ordinal));
        }
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (Lookup(c, c.Arg(i)) is { } info)
            {
                infos.Add(info);
            }
        }
        c.Reply.WriteMapHeader(infos.Count);
        foreach (var info in infos)
        {
            c.Reply.WriteBulk(info.FullNameBytes);
            CommandReplies.WriteDocs(c.Reply, info, c.Server.Commands.Serves);
        }
    }

    private static void List(CommandContext c)
    {
        Func<CommandInfo, bool> filter = _ => true;
        if (c.ArgCount == 5 && c.ArgIs(2, "filterby"u8))
        {
            var value = c.Arg(4).ToArray();
            if (c.ArgIs(3, "module"u8))
            {
                filter = _ => false;
            }
            else if (c.ArgIs(3, "aclcat"u8))
            {
                var category = "@" + Encoding.UTF8.GetString(value);
                filter = info => info.AclCategories.Contains(category, StringComparer.OrdinalIgnoreCase);
            }
            else if (c.ArgIs(3, "pattern"u8))
            {
                filter = info => GlobPattern.IsMatch(value, info.FullNameBytes, ignoreCase: true);
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        else if (c.ArgCount != 2)
        {
            c.SyntaxError();
            return;
        }
        var names = new List<byte[]>();
        foreach (var command in c.Server.Commands.All)
        {
            if (filter(command.Info))
            {
                names.Add(command.Info.FullNameBytes);
            }
            names.AddRange(command.Subcommands.Values.Where(s => filter(s.Info)).Select(s => s.Info.FullNameBytes));
        }
        c.Reply.WriteArrayHeader(names.Count);
        foreach (var name in names)
        {
            c.Reply.WriteBulk(name);
        }
    }

    private static void GetKeys(CommandContext c, bool withFlags)
    {
        // Keys come from metadata alone, so any Redis command can be asked about, served here or not.
        var info = CommandTable.Redis.Find(c.Arg(2));
        if (info is not null && info.HasSubcommands && c.ArgCount > 3)
        {
            info = info.FindSubcommand(c.Arg(3));
        }
        if (info is null)
        {
            c.Error("ERR Invalid command specified");
            return;
        }
        if (!info.HasKeys)
        {
            c.Error("ERR The command has no key arguments");
            return;
        }
        if (!info.AcceptsArgumentCount(c.ArgCount - 2))
        {
            c.Error("ERR Invalid number of arguments specified for command");
            return;
        }
        var keys = new List<int>();
        if (KeyExtractor.GetKeys(info, c.Args, 2, keys) == 0)
        {
            if ((info.Flags & CommandFlags.NoMandatoryKeys) != 0)
            {
                c.Reply.WriteArrayHeader(0);
            }
            else
            {
                c.Error("ERR Invalid arguments specified for command");
            }
            return;
        }
        c.Reply.WriteArrayHeader(keys.Count);
        foreach (var position in keys)
        {
            if (!withFlags)
            {
                c.Reply.WriteBulk(c.Arg(2 + position));
                continue;
            }
            c.Reply.WriteArrayHeader(2);
            c.Reply.WriteBulk(c.Arg(2 + position));
            var flags = KeyExtractor.FlagsOf(info, c.Args, 2, position);
            c.Reply.WriteSetHeader(flags.Count);
            foreach (var flag in flags)
            {
                c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes(flag));
            }
        }
    }
}
