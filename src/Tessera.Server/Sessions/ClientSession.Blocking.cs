using Tessera.Resp;
using Tessera.Server.Commands;

namespace Tessera.Server.Sessions;

/// <summary>What a command asked to wait for (<see cref="CommandContext.Block{T}"/>).</summary>
/// <param name="Keys">The keys waited on.</param>
/// <param name="ValueType">The type a key must hold to serve the command (a list for BLPOP).</param>
/// <param name="DeadlineMs">Unix milliseconds of the timeout, or 0 to wait forever.</param>
internal sealed record BlockRequest(byte[][] Keys, Type ValueType, long DeadlineMs);

/// <summary>A blocked client's wait: its request, and the command ready to run again with copied arguments.</summary>
internal sealed class BlockedCommand(BlockRequest request, int db, CommandContext retry, RespWriter scratch)
{
    public BlockRequest Request { get; } = request;

    /// <summary>The database the keys belong to (SELECT cannot run while blocked).</summary>
    public int Db { get; } = db;

    public CommandContext Retry { get; } = retry;

    /// <summary>Where the retried command writes its reply before it is handed to the client's loop.</summary>
    public RespWriter Scratch { get; } = scratch;
}

/// <summary>Blocking commands: waiting on keys, being served from another client's command, timing out.</summary>
internal sealed partial class ClientSession
{
    private volatile bool _remotePending;

    /// <summary>The wait in progress, or null.</summary>
    public BlockedCommand? Blocked { get; private set; }

    /// <summary>
    /// Turns the command just run into a wait, keeping copies of its arguments (the input buffer moves on). The
    /// transport stops reading until the wait ends, as for CLIENT PAUSE.
    /// </summary>
    private void BeginBlock(ServerCommand command, Request args, BlockRequest request)
    {
        var retryArgs = new Request();
        retryArgs.Set(_context.CopyArgs(0, args.Count));
        var scratch = new RespWriter { Protocol = Protocol };
        var retry = new CommandContext(this, _server) { Reply = scratch, Retrying = true, Args = retryArgs, Command = command };
        Blocked = new BlockedCommand(request, DbIndex, retry, scratch);
        Flags |= ClientFlags.Blocked;
        _server.Blocking.Block(this, Blocked);
    }

    /// <summary>
    /// Runs the blocked command again after one of its keys became ready (on the thread of the command that made
    /// it ready, under the execution lock), served from <paramref name="readyKey"/> only. True when it replied, so the wait is over.
    /// </summary>
    public bool RetryBlocked(byte[] readyKey)
    {
        var blocked = Blocked!;
        var retry = blocked.Retry;
        retry.Failed = false;
        retry.ReadyKey = readyKey;
        using (Running(blocked.Scratch))
        {
            RunHandler(retry);
            if (blocked.Scratch.IsEmpty)
            {
                return false;
            }
            // Its own invalidations follow its reply, as after any command.
            _server.Tracking.SendPending(this);
        }
        SendBlockedReply(blocked, w => w.TakeFrom(blocked.Scratch));
        return true;
    }

    /// <summary>Ends the wait without serving it: the timeout's null array, or <paramref name="error"/>.</summary>
    public void EndBlock(string? error)
    {
        var blocked = Blocked!;
        SendBlockedReply(blocked, w =>
        {
            if (error is not null)
            {
                w.WriteError(error);
            }
            else
            {
                // Redis 7.0 times out list and sorted set waits with a null array, BLMOVE's included.
                w.WriteNullArray();
            }
        });
    }

    /// <summary>Lets the client's loop read and run commands again once the wait ended.</summary>
    public void Unblock()
    {
        Blocked = null;
        Flags &= ~ClientFlags.Blocked;
        Transport?.Wake();
    }

    private void SendBlockedReply(BlockedCommand blocked, Action<RespWriter> write)
    {
        if ((Flags & ClientFlags.ReplyOff) != 0)
        {
            blocked.Scratch.Clear();
            return;
        }
        WriteRemote(write);
    }
}
