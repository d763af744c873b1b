using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>Where a replica's synchronization stands (Redis's slave states).</summary>
internal enum ReplicaState
{
    /// <summary>Waiting for a point-in-time snapshot to be written for it.</summary>
    WaitingSnapshot,

    /// <summary>Snapshot sent, receiving the stream.</summary>
    Online,
}

/// <summary>A replica as its master sees it: the client connection that asked for PSYNC or SYNC.</summary>
internal sealed class ReplicaLink(ClientSession session)
{
    public ClientSession Session { get; } = session;

    public ReplicaState State { get; set; } = ReplicaState.WaitingSnapshot;

    /// <summary>The stream written while the snapshot is prepared, sent right after it.</summary>
    public RespWriter Pending { get; } = new();

    /// <summary>The offset of the last REPLCONF ACK.</summary>
    public long AckOffset { get; set; }

    /// <summary>Environment.TickCount64 of the last REPLCONF ACK (INFO's lag).</summary>
    public long AckMs { get; set; } = Environment.TickCount64;
}
