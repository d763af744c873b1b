using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Storage;

namespace Tessera.Server.Sessions;

/// <summary>MULTI/EXEC state: the queued commands and the watched keys (Redis's multiState).</summary>
internal sealed partial class ClientSession : Cluster.IClusterClient
{
    private readonly List<(ServerCommand Command, byte[][] Args)> _queued = [];
    private CommandContext? _execContext;

    /// <summary>Keys this client WATCHes (see <see cref="WatchRegistry"/>).</summary>
    public List<WatchedKey> WatchedKeys { get; } = [];

    /// <summary>Commands queued since MULTI (CLIENT LIST's multi=), or -1 outside a transaction.</summary>
    /// <summary>
    /// For EXEC's checks in the pipeline: whether a queued command has <paramref name="flag"/> (or, with
    /// <paramref name="flagged"/> false, lacks it), as Redis keeps the union of the queued commands' flags.
    /// </summary>
    private bool AnyQueued(Core.Commands.CommandFlags flag, bool flagged)
    {
        foreach (var (command, _) in _queued)
        {
            if (((command.Info.Flags & flag) != 0) == flagged)
            {
                return true;
            }
        }
        return false;
    }

    public bool InTransaction => (Flags & ClientFlags.Multi) != 0;

    /// <summary>The commands queued since MULTI, for EXEC's cluster routing.</summary>
    public int QueuedCount => _queued.Count;

    public Core.Commands.CommandInfo Queued(int index, Request args)
    {
        var (command, queuedArgs) = _queued[index];
        args.Set(queuedArgs);
        return command.Info;
    }

    public int QueuedCommands => (Flags & ClientFlags.Multi) != 0 ? _queued.Count : -1;

    /// <summary>MULTI: starts queueing.</summary>
    public void BeginTransaction() => Flags |= ClientFlags.Multi;

    /// <summary>DISCARD, EXEC, RESET: back to running commands at once, watching nothing.</summary>
    public void DiscardTransaction()
    {
        _queued.Clear();
        Flags &= ~(ClientFlags.Multi | ClientFlags.DirtyCas | ClientFlags.DirtyExec);
        _server.Watches.UnwatchAll(this);
    }

    /// <summary>True when a queued command would be postponed by CLIENT PAUSE, so EXEC waits too.</summary>
    private bool QueuedCommandsPostponed() => _queued.Any(q => _server.ClientPause.ShouldPostpone(q.Command.Info.Flags));

    private void QueueCommand(ServerCommand command, Request args)
    {
        var copies = new byte[args.Count][];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = args.ToArray(i);
        }
        _queued.Add((command, copies));
        var replyStart = Output.Length;
        Output.WriteLiteral("+QUEUED\r\n"u8);
        ApplyReplyMode(replyStart);
    }

    /// <summary>
    /// EXEC's body, after the checks: runs the queued commands in order, each replying into the EXEC array,
    /// with blocking commands answering at once as if timed out. Errors do not stop the rest (no rollback).
    /// </summary>
    public void RunQueuedCommands()
    {
        var queued = _queued.ToArray();
        DiscardTransaction();
        Output.WriteArrayHeader(queued.Length);
        var context = _execContext ??= new CommandContext(this, _server) { Reply = Output, DenyBlocking = true, Args = new Request() };
        foreach (var (command, args) in queued)
        {
            if (QueuedPermissionError(command, args, context.Args) is { } denied)
            {
                Output.WriteError(denied);
                continue;
            }
            RunNested(context, command, args);
        }
    }
}
