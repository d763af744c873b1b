using Tessera.Server.Logging;

namespace Tessera.Server.Sessions;

/// <summary>
/// client-output-buffer-limit (Redis's checkClientOutputBufferLimits): a client whose unsent output passes its
/// class's hard limit, or stays over the soft limit too long, is disconnected. Where a class has no hard limit
/// (Redis's default for normal clients), the node's output ceiling stands in for one, so no single client can
/// grow its replies until the process runs out of memory.
/// </summary>
internal sealed partial class ClientSession
{
    private long _softLimitSinceMs;
    private bool _closedForOutputLimit;

    /// <summary>The client's class for output limits, as Redis's getClientType: master, replica, pubsub or normal.</summary>
    private string? OutputLimitClass => (Flags & ClientFlags.Master) != 0 ? null
        : (Flags & ClientFlags.Replica) != 0 ? "slave"
        : InPubSubMode ? "pubsub"
        : "normal";

    /// <summary>Set when a reply stopped at <see cref="RepeatedReplyCeiling"/>: the client is closed after the command.</summary>
    public bool ReplyOverflowed { get; set; }

    /// <summary>
    /// The most a reply that repeats elements on request (SRANDMEMBER -N, ...) may grow to: the class's hard
    /// limit, and never past <c>proto-max-bulk-len</c> (the largest value a client may send) or the node's output
    /// ceiling. Redis has no such bound by default and grows such a reply until the process dies.
    /// </summary>
    public long RepeatedReplyCeiling
    {
        get
        {
            var hard = OutputLimitClass is { } limitClass ? _server.Config.OutputBufferLimits[limitClass].Hard : 0;
            var ceiling = Math.Min(_server.OutputCeiling, _server.Config.ProtoMaxBulkLen.Value);
            return hard > 0 ? Math.Min(hard, ceiling) : ceiling;
        }
    }

    /// <summary>
    /// After a command: a client whose reply overflowed, or whose replies passed its limit, is closed and its
    /// replies dropped, as Redis closes it asynchronously; later commands in its buffer are not run.
    /// </summary>
    private void CloseIfOverOutputLimit()
    {
        var limitClass = OutputLimitClass;
        if (ReplyOverflowed)
        {
            ReplyOverflowed = false;
            _closedForOutputLimit = true;
            _server.Log.ClosingForOutputLimit(RemoteAddress, limitClass ?? "master", Output.Length);
            Transport?.Close();
        }
        else if (limitClass is null || !CloseOverOutputLimit(limitClass, 0))
        {
            return;
        }
        Output.Reset();
        Flags |= ClientFlags.CloseAfterReply;
    }

    /// <summary>
    /// After output was queued from another thread: closes the connection when the class's output buffer limit
    /// is passed (from that thread, as CLIENT KILL does; the loop then forgets the session), else wakes its loop.
    /// </summary>
    private void WakeWithinLimit(string limitClass, long pending)
    {
        if (!CloseOverOutputLimit(limitClass, pending))
        {
            Transport?.Wake();
        }
    }

    /// <summary>
    /// Closes the connection when <paramref name="pending"/> bytes besides its output pass the class's output
    /// buffer limit (also a replica's stream held back during its snapshot transfer); true when it did.
    /// </summary>
    public bool CloseOverOutputLimit(string limitClass, long pending)
    {
        if (_closedForOutputLimit)
        {
            return true;
        }
        if (!ExceedsOutputLimit(limitClass, pending + Output.Length))
        {
            return false;
        }
        _closedForOutputLimit = true;
        _server.Log.ClosingForOutputLimit(RemoteAddress, limitClass, pending + Output.Length);
        Transport?.Close();
        return true;
    }

    /// <summary>A class of client-output-buffer-limit: over the hard limit, or over the soft one for too long.</summary>
    private bool ExceedsOutputLimit(string limitClass, long pending)
    {
        var (hard, soft, seconds) = _server.Config.OutputBufferLimits[limitClass];
        if (pending >= (hard > 0 ? Math.Min(hard, _server.OutputCeiling) : _server.OutputCeiling))
        {
            return true;
        }
        if (soft <= 0 || pending < soft)
        {
            _softLimitSinceMs = 0;
            return false;
        }
        var now = Environment.TickCount64;
        if (_softLimitSinceMs == 0)
        {
            _softLimitSinceMs = now;
        }
        return now - _softLimitSinceMs >= seconds * 1000;
    }
}
