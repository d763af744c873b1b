namespace Tessera.Server.Sessions;

/// <summary>State flags of a client connection (CLIENT LIST shows them as letters).</summary>
[Flags]
internal enum ClientFlags
{
    None = 0,

    /// <summary>Close once pending replies are written (QUIT, protocol errors, CLIENT KILL).</summary>
    CloseAfterReply = 1 << 0,

    /// <summary>Connected through a unix socket.</summary>
    UnixSocket = 1 << 1,

    /// <summary>Receives every command (MONITOR).</summary>
    Monitor = 1 << 2,

    /// <summary>Excluded from eviction of clients (CLIENT NO-EVICT on).</summary>
    NoEvict = 1 << 3,

    /// <summary>Waiting for CLIENT UNPAUSE before its next command runs.</summary>
    Paused = 1 << 4,

    /// <summary>Replies are suppressed (CLIENT REPLY OFF).</summary>
    ReplyOff = 1 << 5,

    /// <summary>The next command's reply is suppressed (CLIENT REPLY SKIP).</summary>
    ReplySkipNext = 1 << 6,

    /// <summary>The current command's reply is suppressed (set from ReplySkipNext).</summary>
    ReplySkip = 1 << 7,

    /// <summary>Waiting on keys (BLPOP ...) until served, timed out or unblocked.</summary>
    Blocked = 1 << 8,

    /// <summary>Inside MULTI: commands are queued until EXEC.</summary>
    Multi = 1 << 9,

    /// <summary>A watched key changed: EXEC will answer null.</summary>
    DirtyCas = 1 << 10,

    /// <summary>A command was refused while queueing: EXEC will answer EXECABORT.</summary>
    DirtyExec = 1 << 11,

    /// <summary>A replica of this node: it receives the replication stream (CLIENT LIST flag S).</summary>
    Replica = 1 << 12,

    /// <summary>The link to this node's master: its commands apply the replication stream (CLIENT LIST flag M).</summary>
    Master = 1 << 13,
}
