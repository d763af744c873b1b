using Tessera.Cluster.Bus;

namespace Tessera.Cluster;

/// <summary>
/// Replacing a master by one of its replicas (Redis Cluster's failover): the replica of a FAIL master waits a delay
/// that grows with its rank (replicas with more of the stream go first), asks the masters for their vote in a new
/// epoch, and with a majority takes its master's slots under that epoch; masters give one vote per epoch and one
/// per failed master per two node timeouts. CLUSTER FAILOVER starts the same election by hand: by default after the
/// master held its writes and the replica caught up with them (no acknowledged write lost), with FORCE at once, with
/// TAKEOVER without an election at all. A replica of a master with more replicas than <c>cluster-migration-barrier</c>
/// moves to a master left without any (replica migration).
/// </summary>
internal sealed partial class ClusterNode
{
    /// <summary>As Redis's CLUSTER_MF_TIMEOUT: a manual failover not done by then is abandoned.</summary>
    private const long ManualFailoverTimeoutMs = 5000;

    private readonly ManualFailover _manualFailover = new();

    /// <summary>When this replica's election may start (Unix ms); its age says when it expires and when to retry.</summary>
    private long _electionTimeMs;
    private long _electionEpoch;
    private int _electionRank;
    private int _votes;
    private bool _votesRequested;

    /// <summary>As Redis's CLUSTER_SLAVE_MIGRATION_DELAY: how long a master must stay orphaned before a replica moves.</summary>
    private const long ReplicaMigrationDelayMs = 5000;

    /// <summary>Since when an orphaned master has been seen (Unix ms), or 0.</summary>
    private long _orphanSeenMs;

    /// <summary>
    /// Redis's clusterHandleSlaveMigration, from the cron: when the cluster is ok, this replica's master keeps more
    /// than <c>cluster-migration-barrier</c> working replicas besides it, this replica has the smallest id among them,
    /// and a master serving slots has had no working replica for <see cref="ReplicaMigrationDelayMs"/>, this replica
    /// follows that master instead.
    /// </summary>
    private void MigrateToOrphanedMaster(long now)
    {
        if (!host.Settings.AllowReplicaMigration || !StateOk || Myself.MasterId is not { } masterId || !_peers.ContainsKey(masterId))
        {
            return;
        }
        var siblings = _peers.Values.Where(p => p.MasterId == masterId && !p.Failing).ToList();
        if (siblings.Count <= host.Settings.MigrationBarrier || siblings.Any(p => string.CompareOrdinal(p.Id, Myself.Id) < 0))
        {
            return;
        }
        // A master that had replicas: one was seen replicating it (HadReplicas), or one still listed as its replica,
        // failed now, which tells the same when its messages came before this node knew the master itself.
        var orphan = _peers.Values.FirstOrDefault(p => p.MasterId is null && !p.Failing && ServesSlots(p)
            && (p.HadReplicas || _peers.Values.Any(r => r.MasterId == p.Id))
            && !_peers.Values.Any(r => r.MasterId == p.Id && !r.Failing));
        if (orphan is null)
        {
            _orphanSeenMs = 0;
            return;
        }
        if (_orphanSeenMs == 0)
        {
            _orphanSeenMs = now;
        }
        else if (now - _orphanSeenMs > ReplicaMigrationDelayMs)
        {
            _orphanSeenMs = 0;
            Follow(orphan);
            Changed();
        }
    }

    /// <summary>From the cron: runs this replica's election when its master failed or a manual failover is ready.</summary>
    private void HandleReplicaFailover(long now)
    {
        _manualFailover.CheckTimeout(this, now);
        if (Myself.MasterId is not { } masterId || !_peers.TryGetValue(masterId, out var master))
        {
            return;
        }
        _manualFailover.CheckCaughtUp(host.Replication.Offset);
        var manual = _manualFailover.CanStart;
        if ((!master.Fail && !manual) || (host.Settings.ReplicaNoFailover && !manual) || !ServesSlots(master))
        {
            return;
        }
        var timeout = NodeTimeoutMs;
        if (!manual && DataTooOld(timeout))
        {
            return;
        }
        var authTimeout = Math.Max(timeout * 2, 2000);
        var age = now - _electionTimeMs;
        if (age > authTimeout * 2)
        {
            // A new election: later for replicas that have less of the stream, so the best one usually wins.
            _votes = 0;
            _votesRequested = false;
            _electionRank = manual ? 0 : Rank(master);
            _electionTimeMs = manual ? now : now + 500 + Random.Shared.Next(500) + _electionRank * 1000L;
            return;
        }
        if (!_votesRequested && !manual)
        {
            var rank = Rank(master);
            if (rank > _electionRank)
            {
                _electionTimeMs += (rank - _electionRank) * 1000L;
                _electionRank = rank;
            }
        }
        if (now < _electionTimeMs || age > authTimeout)
        {
            return;
        }
        if (!_votesRequested)
        {
            CurrentEpoch++;
            _electionEpoch = CurrentEpoch;
            _votesRequested = true;
            _bus?.Broadcast(Message(BusMessageType.AuthRequest), p => p.MasterId is null);
            Changed(durable: true);
            return;
        }
        if (_votes >= Size / 2 + 1)
        {
            Myself.ConfigEpoch = Math.Max(Myself.ConfigEpoch, _electionEpoch);
            ReplaceMaster(master);
        }
    }

    /// <summary>
    /// Redis's data age test: a replica whose link has been down for much longer than the node timeout
    /// (<c>cluster-replica-validity-factor</c> times it, plus the ping period) has data too old to take over.
    /// </summary>
    private bool DataTooOld(long timeout)
    {
        var factor = host.Settings.ReplicaValidityFactor;
        if (factor == 0 || host.Replication.MasterLastIoMs is not { } lastIoMs)
        {
            return false;
        }
        var age = Environment.TickCount64 - lastIoMs;
        if (age > timeout)
        {
            age -= timeout;
        }
        return age > host.Settings.ReplPingReplicaPeriod * 1000 + timeout * factor;
    }

    /// <summary>How many other replicas of <paramref name="master"/> have more of its stream than this one.</summary>
    private int Rank(ClusterPeer master)
    {
        var offset = host.Replication.Offset;
        return _peers.Values.Count(p => !p.IsMyself && p.MasterId == master.Id && !p.Failing && p.ReplicationOffset > offset);
    }

    /// <summary>
    /// A master's answer to a replica asking for its vote (Redis's clusterSendFailoverAuthIfNeeded): at most one
    /// vote per epoch, only for a replica whose master failed (or a manual failover), not twice for the same master
    /// within two node timeouts, and only if no slot it claims has an owner with a newer config epoch.
    /// </summary>
    private void VoteIfAllowed(ClusterPeer replica, BusMessage request, long now)
    {
        if (Myself.MasterId is not null || !ServesSlots(Myself) || request.CurrentEpoch < CurrentEpoch || LastVoteEpoch == CurrentEpoch)
        {
            return;
        }
        if (replica.MasterId is not { } masterId || !_peers.TryGetValue(masterId, out var master))
        {
            return;
        }
        if ((!master.Fail && (request.Flags & BusMessageFlags.ForceAck) == 0) || now - master.VotedTimeMs < NodeTimeoutMs * 2)
        {
            return;
        }
        for (var slot = 0; slot < _slots.Length; slot++)
        {
            if (request.ClaimsSlot(slot) && _slots[slot] is { } owner && owner.ConfigEpoch > request.ConfigEpoch)
            {
                return;
            }
        }
        LastVoteEpoch = CurrentEpoch;
        master.VotedTimeMs = now;
        Changed(durable: true);
        _bus?.Send(replica, Message(BusMessageType.AuthAck));
    }

    private void CountVote(ClusterPeer voter, BusMessage ack)
    {
        if (voter.MasterId is null && ServesSlots(voter) && ack.CurrentEpoch >= _electionEpoch && _votesRequested)
        {
            _votes++;
        }
    }

    /// <summary>
    /// This replica becomes the master of its master's slots (Redis's clusterFailoverReplaceYourMaster) and tells
    /// every node at once; the others, the old master included when it returns, follow from its claims.
    /// </summary>
    private void ReplaceMaster(ClusterPeer master)
    {
        Myself.MasterId = null;
        host.Replication.BecomeMaster();
        for (var slot = 0; slot < _slots.Length; slot++)
        {
            if (_slots[slot] == master)
            {
                _slots[slot] = Myself;
            }
        }
        _manualFailover.Reset(this);
        _electionTimeMs = 0;
        Changed(durable: true);
        _bus?.Broadcast(Message(BusMessageType.Pong), _ => true);
    }

    /// <summary>This node (which lost its slots, or whose master did) replicates <paramref name="master"/> from now on.</summary>
    private void Follow(ClusterPeer master)
    {
        Myself.MasterId = master.Id;
        ReleaseSlotsOf(Myself);
        _manualFailover.Reset(this);
        host.Replication.BecomeReplica(master.ConnectIp, master.Port);
    }

    /// <summary>
    /// CLUSTER FAILOVER on a replica: null when started, else the error. TAKEOVER promotes at once under a new
    /// epoch of its own; FORCE starts the election now; the default asks the master to hold writes first.
    /// </summary>
    public string? StartManualFailover(bool force, bool takeover)
    {
        if (Myself.MasterId is null)
        {
            return "ERR You should send CLUSTER FAILOVER to a replica";
        }
        if (!_peers.TryGetValue(Myself.MasterId, out var master))
        {
            return "ERR I'm a replica but my master is unknown to me";
        }
        if (!force && !takeover && (master.Fail || !master.Connected))
        {
            return "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE";
        }
        _manualFailover.Reset(this);
        if (takeover)
        {
            BumpEpochWithoutConsensus();
            ReplaceMaster(master);
            return null;
        }
        _manualFailover.Begin(ClusterNode.NowMs + ManualFailoverTimeoutMs, force);
        if (!force)
        {
            _bus?.Send(master, Message(BusMessageType.ManualFailoverStart));
        }
        return null;
    }

    /// <summary>A replica of this master asked for a manual failover: writes wait while it catches up.</summary>
    private void StartManualFailoverAsMaster(ClusterPeer replica)
    {
        if (Myself.MasterId is not null || replica.MasterId != Myself.Id)
        {
            return;
        }
        _manualFailover.Reset(this);
        _manualFailover.Begin(NowMs + ManualFailoverTimeoutMs, canStart: false, replica);
        host.PauseWritesForFailover();
        // The replica learns the final offset from this message's Paused flag.
        _bus?.Send(replica, Message(BusMessageType.Ping));
    }

    /// <summary>
    /// A new config epoch without agreement (Redis's clusterBumpConfigEpochWithoutConsensus): taken unless this
    /// node's is already the greatest; true when bumped.
    /// </summary>
    public bool BumpEpochWithoutConsensus()
    {
        var highest = Math.Max(CurrentEpoch, _peers.Values.Max(p => p.ConfigEpoch));
        if (Myself.ConfigEpoch != 0 && Myself.ConfigEpoch == highest)
        {
            return false;
        }
        CurrentEpoch++;
        Myself.ConfigEpoch = CurrentEpoch;
        Changed(durable: true);
        return true;
    }

    /// <summary>A manual failover in progress, on the replica that asked or on its master (which holds writes).</summary>
    private sealed class ManualFailover
    {
        private long _endMs;

        /// <summary>On the master: the replica taking over.</summary>
        public ClusterPeer? Replica { get; private set; }

        /// <summary>On the replica: the election may start (caught up, or FORCE).</summary>
        public bool CanStart { get; private set; }

        /// <summary>On the replica: the master's offset once it held writes, or -1.</summary>
        private long _masterOffset = -1;

        public void Begin(long endMs, bool canStart, ClusterPeer? replica = null)
        {
            _endMs = endMs;
            CanStart = canStart;
            Replica = replica;
        }

        public void MasterPaused(long offset)
        {
            if (_endMs != 0 && _masterOffset < 0)
            {
                _masterOffset = offset;
            }
        }

        public void CheckCaughtUp(long offset)
        {
            if (_endMs != 0 && !CanStart && _masterOffset >= 0 && offset >= _masterOffset)
            {
                CanStart = true;
            }
        }

        public void CheckTimeout(ClusterNode node, long now)
        {
            if (_endMs != 0 && now > _endMs)
            {
                Reset(node);
            }
        }

        /// <summary>Ends it; a master lets the held writes run (a redirect answers them if it lost its slots).</summary>
        public void Reset(ClusterNode node)
        {
            if (Replica is not null)
            {
                node.Host.EndFailoverPause();
            }
            _endMs = 0;
            CanStart = false;
            Replica = null;
            _masterOffset = -1;
        }
    }
}
