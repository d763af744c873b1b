using System.Text;
using Tessera.Core.Commands;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Replies shared by container commands: HELP text and the unknown-subcommand error, in Redis's wording.</summary>
internal static class Help
{
    /// <summary>Redis's addReplyHelp: a header line, the given lines, then HELP itself, each as a status reply.</summary>
    public static void Write(CommandContext c, params string[] lines)
    {
        var name = c.Command.Info.Parent?.Name ?? c.Command.Info.Name;
        var w = c.Reply;
        w.WriteArrayHeader(lines.Length + 3);
        w.WriteSimpleString(Encoding.ASCII.GetBytes($"{name.ToUpperInvariant()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        foreach (var line in lines)
        {
            w.WriteSimpleString(Encoding.ASCII.GetBytes(line));
        }
        w.WriteSimpleString("HELP"u8);
        w.WriteSimpleString("    Prints this help."u8);
    }

    /// <summary>Redis's addReplySubcommandSyntaxError.</summary>
    public static void SubcommandSyntaxError(CommandContext c)
    {
        var name = c.Command.Info.Parent?.Name ?? c.Command.Info.Name;
        c.Error($"ERR unknown subcommand or wrong number of arguments for '{CommandReplies.Truncated(c.Arg(1), 128)}'. Try {name.ToUpperInvariant()} HELP.");
    }
}
