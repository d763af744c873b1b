using Tessera.Server.Logging;

namespace Tessera.Server.Sessions;

/// <summary>What became of a command the pipeline was given.</summary>
internal enum CommandOutcome
{
    /// <summary>Run, queued or refused: the next command follows.</summary>
    Done,

    /// <summary>Waiting (CLIENT PAUSE, a busy script): it stays in the buffer and is parsed again on resume.</summary>
    Postponed,

    /// <summary>The busy script ended meanwhile: parse it again, this time under the execution lock.</summary>
    Retry,
}

/// <summary>
/// Commands that arrive while a script is busy (Redis's processCommand during a timed-out script). The script
/// holds the execution lock, so this client runs without it: most commands get -BUSY (a refusal, so a MULTI is
/// flagged and an EXEC aborts, as in Redis); the ones Redis allows run through their busy-time handler, or, when
/// they need the dataset or the watch table, wait until the script ends.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>True while <see cref="ProcessInput"/> runs this client's commands: its loop may not re-enter it.</summary>
    public bool Processing { get; private set; }

    private CommandOutcome ProcessCommandWhileBusy(Commands.ServerCommand command, Tessera.Resp.Request args, bool inMulti)
    {
        var scripts = _server.ScriptsIfStarted!;
        if ((command.Info.Flags & Core.Commands.CommandFlags.AllowBusy) == 0)
        {
            Reject(command, scripts.BusyError);
            return CommandOutcome.Done;
        }
        // Inside MULTI, what is allowed while busy is queued like any command (Redis's order).
        if (inMulti && (command.Info.Flags & Core.Commands.CommandFlags.TransactionControl) == 0)
        {
            QueueCommand(command, args);
            return CommandOutcome.Done;
        }
        if (command.WhileBusy is null)
        {
            return scripts.WaitUntilIdle(this) ? CommandOutcome.Postponed : CommandOutcome.Retry;
        }
        var replyStart = Output.Length;
        var context = _context;
        context.Args = args;
        context.Command = command;
        context.Failed = false;
        try
        {
            command.WhileBusy(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Output.TruncateTo(replyStart);
            context.Error($"ERR internal error while running '{context.CommandName}'");
            _server.Log.CommandFailed(e, context.CommandName);
        }
        ApplyReplyMode(replyStart);
        return CommandOutcome.Done;
    }
}
