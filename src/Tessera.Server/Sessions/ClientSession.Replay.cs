using Tessera.Core.Commands;
using Tessera.Resp;

namespace Tessera.Server.Sessions;

/// <summary>Commands replayed from the AOF at start-up, on a session of their own (Redis's fake AOF client).</summary>
internal sealed partial class ClientSession
{
    private CommandContext? _replayContext;

    /// <summary>
    /// Runs one command read from the AOF: no authentication, permission, memory limit or pause applies, a
    /// blocking command answers at once, and replies are dropped. Returns the error that makes the file
    /// unloadable (an unknown command, a wrong arity), or null.
    /// </summary>
    public string? Replay(Request args)
    {
        var command = FindCommand(args[0]);
        if (command is not null && command.Info.HasSubcommands && args.Count > 1)
        {
            command = command.FindSubcommand(args[1]);
        }
        if (command?.Handler is null)
        {
            return $"Unknown command '{CommandReplies.Truncated(args[0], 128)}'";
        }
        if (!command.Info.AcceptsArgumentCount(args.Count))
        {
            return $"Wrong number of arguments for '{command.Info.FullName}'";
        }
        if ((Flags & ClientFlags.Multi) != 0 && (command.Info.Flags & Core.Commands.CommandFlags.TransactionControl) == 0)
        {
            QueueCommand(command, args);
        }
        else
        {
            var context = _replayContext ??= new CommandContext(this, _server) { Reply = Output, DenyBlocking = true };
            context.Args = args;
            context.Command = command;
            context.Failed = false;
            RunHandler(context);
        }
        Output.Clear();
        return null;
    }
}
