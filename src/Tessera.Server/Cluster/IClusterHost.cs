using Microsoft.Extensions.Logging;

namespace Tessera.Server.Cluster;

/// <summary>
/// The node as its cluster part sees it: the few things cluster.c reaches in server.c for, each behind a narrow
/// interface, so Tessera.Cluster builds against this seam alone (the other direction is <see cref="IClusterNode"/>).
/// </summary>
public interface IClusterHost
{
    /// <summary>Held by every thread that touches the keyspace or the cluster view (the bus threads included).</summary>
    Lock ExecutionLock { get; }

    ILogger Log { get; }

    IClusterSettings Settings { get; }

    ISlotKeyspace Keys { get; }

    IReplicationControl Replication { get; }

    /// <summary>Manual failover: holds clients' writes (as CLIENT PAUSE WRITE) until <see cref="EndFailoverPause"/>.</summary>
    void PauseWritesForFailover();

    void EndFailoverPause();

    /// <summary>Delivers a message that came over the bus to this node's subscribers.</summary>
    void PublishLocally(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool sharded);

    /// <summary>DEBUG DROP-CLUSTER-PACKET-FILTER: the bus packet type to drop, or -1.</summary>
    long DroppedBusPacketType { get; }
}

/// <summary>The configuration options cluster mode reads, always at their current value (CONFIG SET applies).</summary>
public interface IClusterSettings
{
    /// <summary>The client port this node listens on.</summary>
    int Port { get; }

    /// <summary>The first <c>bind</c> address, or "*".</summary>
    string BindAddress { get; }

    /// <summary><c>dir</c> joined with <c>cluster-config-file</c>.</summary>
    string ConfigFilePath { get; }

    long NodeTimeoutMs { get; }

    int ClusterPort { get; }

    string AnnounceIp { get; }

    int AnnouncePort { get; }

    int AnnounceBusPort { get; }

    string AnnounceHostname { get; }

    bool RequireFullCoverage { get; }

    bool AllowReadsWhenDown { get; }

    bool AllowReplicaMigration { get; }

    long MigrationBarrier { get; }

    bool ReplicaNoFailover { get; }

    long ReplicaValidityFactor { get; }

    /// <summary><c>repl-ping-replica-period</c>, in seconds.</summary>
    long ReplPingReplicaPeriod { get; }
}

/// <summary>Database 0 (the only one in cluster mode) by hash slot.</summary>
public interface ISlotKeyspace
{
    /// <summary>Keys in the database.</summary>
    long Count { get; }

    int CountInSlot(int slot);

    /// <summary>Up to <paramref name="max"/> keys of <paramref name="slot"/>, copied.</summary>
    List<byte[]> KeysInSlot(int slot, long max);

    /// <summary>Deletes every key of <paramref name="slot"/> (a slot this node no longer serves).</summary>
    void DeleteSlot(int slot);

    /// <summary>True when <paramref name="key"/> exists and has not expired.</summary>
    bool Holds(ReadOnlySpan<byte> key);

    /// <summary>Empties every database (a replica reset to an empty master); watchers and tracking clients are told.</summary>
    void DropAll();
}

/// <summary>The node's replication role and stream, as failover needs them.</summary>
public interface IReplicationControl
{
    /// <summary>The replication offset (master_repl_offset).</summary>
    long Offset { get; }

    /// <summary>When a replica last heard from its master (Environment.TickCount64), or null without a link.</summary>
    long? MasterLastIoMs { get; }

    void BecomeMaster();

    void BecomeReplica(string host, int port);
}
