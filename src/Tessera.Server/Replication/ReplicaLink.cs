using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>Where a replica's synchronization stands (Redis's slave states).</summary>
internal enum ReplicaState
{
    /// <summary>
    /// Asked for a full synchronization; its snapshot has not started (a diskless one waits for more replicas,
    /// or another background job runs). Gets newlines meanwhile (INFO's wait_bgsave).
    /// </summary>
    WaitingStart,

    /// <summary>Its snapshot file is being written (INFO's wait_bgsave).</summary>
    WaitingSnapshot,

    /// <summary>Receiving its snapshot (INFO's send_bulk).</summary>
    SendingSnapshot,

    /// <summary>
    /// Sent a diskless snapshot, the stream held back until its first REPLCONF ACK: a replica finds the end of
    /// such a transfer by its last bytes, which must not be followed by more before it loaded them (INFO's online).
    /// </summary>
    AwaitingAck,

    /// <summary>Snapshot sent, receiving the stream.</summary>
    Online,
}

/// <summary>A replica as its master sees it: the client connection that asked for PSYNC or SYNC.</summary>
internal sealed class ReplicaLink(ClientSession session)
{
    public ClientSession Session { get; } = session;

    /// <summary>The address it announced (REPLCONF ip-address), else the one it connected from (INFO, ROLE, FAILOVER TO).</summary>
    public string AnnouncedHost => Session.ReplicaAnnouncedIp ?? Session.RemoteAddress[..Math.Max(0, Session.RemoteAddress.LastIndexOf(':'))];

    public ReplicaState State { get; set; } = ReplicaState.WaitingStart;

    /// <summary>True when it asked with PSYNC: the snapshot's start is announced with +FULLRESYNC id offset.</summary>
    public bool Psync { get; init; }

    /// <summary>The stream written while the snapshot is prepared, sent right after it.</summary>
    public RespWriter Pending { get; } = new();

    /// <summary>Environment.TickCount64 of its PSYNC (repl-diskless-sync-delay counts from the first waiting one).</summary>
    public long SinceMs { get; } = Environment.TickCount64;

    /// <summary>The offset of the last REPLCONF ACK.</summary>
    public long AckOffset { get; set; }

    /// <summary>Environment.TickCount64 of the last REPLCONF ACK (INFO's lag).</summary>
    public long AckMs { get; set; } = Environment.TickCount64;
}
