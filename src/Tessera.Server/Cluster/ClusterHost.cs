using Microsoft.Extensions.Logging;
using Tessera.Server.Config;
using Tessera.Server.Pubsub;
using Tessera.Server.Replication;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Cluster;

/// <summary>The server's side of <see cref="IClusterHost"/>: each narrow view maps onto the one part that owns it.</summary>
internal sealed class ClusterHost(
    ServerConfig config,
    Func<int> port,
    Keyspace keyspace,
    WatchRegistry watches,
    Caching.TrackingTable tracking,
    ReplicationMaster replication,
    ClientPause pause,
    PubSubRegistry pubSub,
    DebugSwitches debug,
    Lock executionLock,
    ILogger log) : IClusterHost, IClusterSettings, ISlotKeyspace, IReplicationControl
{
    public Lock ExecutionLock => executionLock;

    public ILogger Log => log;

    public IClusterSettings Settings => this;

    public ISlotKeyspace Keys => this;

    public IReplicationControl Replication => this;

    public void PauseWritesForFailover() => pause.PauseWritesForFailover();

    public void EndFailoverPause() => pause.EndFailoverPause();

    public void PublishLocally(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool sharded)
        => pubSub.Publish(null, channel, message, sharded);

    public long DroppedBusPacketType => debug.DroppedClusterPacketType;

    public int Port => port();

    public string BindAddress => config.Bind.Select(b => b.TrimStart('-')).FirstOrDefault(b => b.Length > 0) ?? "*";

    public string ConfigFilePath => Path.Combine(config.Dir, config.ClusterConfigFile.Value);

    public long NodeTimeoutMs => config.ClusterNodeTimeout.Value;

    public int ClusterPort => (int)config.ClusterPort.Value;

    public string AnnounceIp => config.ClusterAnnounceIp.Value;

    public int AnnouncePort => (int)config.ClusterAnnouncePort.Value;

    public int AnnounceBusPort => (int)config.ClusterAnnounceBusPort.Value;

    public string AnnounceHostname => config.ClusterAnnounceHostname.Value;

    public bool RequireFullCoverage => config.ClusterRequireFullCoverage.Value;

    public bool AllowReadsWhenDown => config.ClusterAllowReadsWhenDown.Value;

    public bool AllowReplicaMigration => config.ClusterAllowReplicaMigration.Value;

    public long MigrationBarrier => config.ClusterMigrationBarrier.Value;

    public bool ReplicaNoFailover => config.ClusterReplicaNoFailover.Value;

    public long ReplicaValidityFactor => config.ClusterReplicaValidityFactor.Value;

    public long ReplPingReplicaPeriod => config.ReplPingReplicaPeriod.Value;

    private Database Db0 => keyspace.Databases[0];

    public long Count => Db0.Count;

    public int CountInSlot(int slot) => Db0.TableOf(slot)?.Count ?? 0;

    public List<byte[]> KeysInSlot(int slot, long max)
    {
        var keys = new List<byte[]>();
        if (Db0.TableOf(slot) is { } table)
        {
            for (var i = 0; i < table.Capacity && keys.Count < max; i++)
            {
                if (table[i].Item is { } item)
                {
                    keys.Add(KeyTable.KeyOf(item).ToArray());
                }
            }
        }
        return keys;
    }

    public void DeleteSlot(int slot)
    {
        var db = Db0;
        foreach (var key in KeysInSlot(slot, long.MaxValue))
        {
            db.Delete(key);
        }
    }

    public bool Holds(ReadOnlySpan<byte> key) => Db0.Exists(key) && !Db0.IsLogicallyExpired(key);

    public void DropAll()
    {
        foreach (var db in keyspace.Databases)
        {
            watches.TouchDatabase(db, replacedWith: null);
            db.Clear();
        }
        tracking.InvalidateAll();
    }

    public long Offset => replication.Offset;

    public long? MasterLastIoMs => replication.Link?.LastIoMs;

    public void BecomeMaster() => replication.BecomeMaster();

    public void BecomeReplica(string host, int port) => replication.BecomeReplica(host, port);
}
