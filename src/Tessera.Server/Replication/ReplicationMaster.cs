using System.Security.Cryptography;
using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Persistence;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>
/// The master side of Redis's replication protocol: a replica's PSYNC (or SYNC) gets +FULLRESYNC with the
/// replication id and offset, then a point-in-time RDB snapshot written in the background (disk-based sync),
/// then every propagated write from that offset on, as the same RESP the AOF receives, plus a PING every
/// <c>repl-ping-replica-period</c> so an idle link stays alive. Once a replica attached, the stream is also kept
/// in a backlog, and a replica that reconnects with this id and an offset the backlog still holds continues
/// from there (+CONTINUE). Used under the execution lock.
/// </summary>
internal sealed class ReplicationMaster(TesseraServer server) : Persistence.IPropagationSink
{
    private static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
    private static readonly byte[] GetAck = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"u8.ToArray();

    /// <summary>Clients blocked in WAIT: the offset their replicas must reach, how many, and until when (0: forever).</summary>
    private readonly List<(ClientSession Session, long Offset, long Replicas, long DeadlineMs)> _waiting = [];

    private readonly List<ReplicaLink> _replicas = [];
    private ReplicationBacklog? _backlog;
    private BackgroundSave? _sync;

    /// <summary>The diskless snapshot being written, or null: cancelled when every replica it was for left.</summary>
    private DisklessTransfer? _disklessTransfer;
    private long _lastPingMs = Environment.TickCount64;
    private long _lastNewlineMs = Environment.TickCount64;

    /// <summary>The replication id (INFO master_replid): this node's own, or as a replica its master's.</summary>
    public string ReplicationId { get; private set; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>The link to this node's master while it is a replica (REPLICAOF), or null.</summary>
    public MasterLink? Link { get; private set; }

    /// <summary>False for a replica started without any history: its PSYNC asks for a full synchronization.</summary>
    public bool HasPosition { get; private set; } = true;

    /// <summary>True once a replica synchronized with its master (ROLE and INFO show its offset then).</summary>
    public bool KnowsMaster { get; private set; }

    /// <summary>
    /// REPLICAOF host port: drops this node's replicas and any previous link, becomes a read-only replica that
    /// does not expire keys itself, and starts the link. As Redis, it keeps its replication id, offset and
    /// backlog: the link asks to continue from them, which succeeds when the new master's history includes them
    /// (a former replica promoted, or this node's former master).
    /// </summary>
    public void BecomeReplica(string host, int port, bool atStartUp = false)
    {
        // Started as a replica without a position from its snapshot: nothing to continue (PSYNC ? -1).
        HasPosition = !atStartUp || _restoredStreamDb >= 0;
        StopLink();
        DisconnectReplicas();
        server.Keyspace.IsReplica = true;
        // The stream this node applied or produced so far is where the new master's may continue.
        var streamDb = _restoredStreamDb >= 0 ? _restoredStreamDb : Math.Max(0, server.Propagation.SelectedDb);
        _restoredStreamDb = -1;
        Link = new MasterLink(server, host, port, streamDb);
        Link.Start();
    }

    /// <summary>
    /// REPLICAOF NO ONE: ends the link and serves as a master under a new replication id. The old id stays
    /// valid up to the offset reached (replid2), so the other replicas of the old master continue from here.
    /// </summary>
    public void BecomeMaster()
    {
        StopLink();
        server.Keyspace.IsReplica = false;
        PreviousReplicationId = ReplicationId;
        PreviousIdValidUpTo = Offset + 1;
        KnowsMaster = false;
        ReplicationId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        // From now on this node's own writes make the stream.
        server.Propagation.ForgetSelectedDb();
        // As Redis does: its replicas reconnect, continue under the old id and learn the new one.
        DisconnectReplicas();
    }

    /// <summary>DEBUG CHANGE-REPL-ID: a new replication id, and no previous one (changeReplicationId, clearReplicationId2).</summary>
    public void ChangeReplicationId()
    {
        ReplicationId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        PreviousReplicationId = new('0', 40);
        PreviousIdValidUpTo = -1;
    }

    /// <summary>The id this node followed before a promotion (INFO master_replid2), or forty zeros.</summary>
    public string PreviousReplicationId { get; private set; } = new('0', 40);

    /// <summary>Offsets up to this one may continue under <see cref="PreviousReplicationId"/> (INFO second_repl_offset), or -1.</summary>
    public long PreviousIdValidUpTo { get; private set; } = -1;

    /// <summary>
    /// The replication position a snapshot taken now records (Redis's rdbPopulateSaveInfo): a replica's master
    /// id, offset and stream database, or a master's own once it streams to replicas; null otherwise.
    /// </summary>
    public RdbReplicationInfo? SavePosition()
    {
        if (Link is { } link)
        {
            return KnowsMaster ? new RdbReplicationInfo(ReplicationId, Offset, link.StreamDb) : null;
        }
        return _backlog is null ? null : new RdbReplicationInfo(ReplicationId, Offset, Math.Max(0, server.Propagation.SelectedDb));
    }

    /// <summary>
    /// At start-up, the position of the snapshot just loaded (Redis 7's loadDataFromDisk): a replica continues
    /// from it as if it had been connected (its link asks PSYNC id offset+1 and uses the stream database); a
    /// master keeps it as its previous id, so its former replicas continue with a partial resynchronization.
    /// </summary>
    public void RestorePosition(RdbReplicationInfo position, bool replica)
    {
        if (replica)
        {
            ReplicationId = position.Id;
            Offset = position.Offset;
            KnowsMaster = true;
            _backlog = new ReplicationBacklog(server.Config.ReplBacklogSize.Value, Offset);
            _restoredStreamDb = position.StreamDb;
            return;
        }
        PreviousReplicationId = position.Id;
        PreviousIdValidUpTo = position.Offset + 1;
        Offset = position.Offset;
        _backlog = new ReplicationBacklog(server.Config.ReplBacklogSize.Value, Offset);
    }

    /// <summary>The stream database of a restored replica position, for the link started next.</summary>
    private int _restoredStreamDb = -1;

    /// <summary>Stops the link to the master without holding the execution lock (its thread takes it).</summary>
    private void StopLink()
    {
        if (Link is { } link)
        {
            Link = null;
            server.ExecutionLock.Exit();
            try
            {
                link.Stop();
            }
            finally
            {
                server.ExecutionLock.Enter();
            }
        }
    }

    /// <summary>
    /// As a replica, after a full resynchronization: the master's id and offset, and a fresh backlog of its stream.
    /// This node's own replicas hold another dataset now: they are disconnected and will sync again.
    /// </summary>
    public void FullySyncedWith(string replicationId, long offset)
    {
        HasPosition = true;
        DisconnectReplicas();
        ReplicationId = replicationId;
        Offset = offset;
        KnowsMaster = true;
        _backlog = new ReplicationBacklog(server.Config.ReplBacklogSize.Value, offset);
    }

    /// <summary>As a replica, after +CONTINUE: the master's id (a promoted master announces its new one).</summary>
    public void ContinuedWith(string replicationId)
    {
        KnowsMaster = true;
        if (replicationId != ReplicationId)
        {
            PreviousReplicationId = ReplicationId;
            PreviousIdValidUpTo = Offset + 1;
            ReplicationId = replicationId;
        }
    }

    /// <summary>
    /// Appends stream bytes this node did not propagate itself: PING and REPLCONF GETACK, or as a replica the
    /// master's stream just applied, which goes on unchanged to the backlog and this node's own replicas (a
    /// chain), so every node of the chain counts the same offsets.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> stream)
    {
        _raw.WriteRaw(stream);
        Feed(_raw);
        _raw.Reset();
    }

    /// <summary>Closes every replica's connection (they reconnect and sync again).</summary>
    private void DisconnectReplicas()
    {
        foreach (var link in _replicas)
        {
            link.Session.Transport?.Close();
        }
        _replicas.Clear();
    }

    private readonly RespWriter _raw = new();

    /// <summary>Bytes of replication stream produced so far (INFO master_repl_offset).</summary>
    public long Offset { get; private set; }

    /// <summary>True once a replica attached: writes are then propagated to the backlog and the replicas.</summary>
    public bool Streaming => _backlog is not null;

    /// <summary>
    /// Takes propagated commands once a replica attached; a replica's replicas get its master's bytes as they came
    /// instead (MasterLink feeds them), so a replica takes none.
    /// </summary>
    public bool Accepting => Streaming && Link is null;

    /// <summary>The backlog, once a replica attached (INFO repl_backlog_*).</summary>
    public ReplicationBacklog? Backlog => _backlog;

    /// <summary>Full resynchronizations served (INFO sync_full).</summary>
    public long FullSyncs { get; private set; }

    /// <summary>Partial resynchronizations accepted and refused (INFO sync_partial_ok / sync_partial_err).</summary>
    public long PartialSyncs { get; private set; }

    public long PartialSyncsRefused { get; private set; }

    public IReadOnlyList<ReplicaLink> Replicas => _replicas;

    /// <summary>
    /// PSYNC/SYNC from <paramref name="session"/>: starts preparing its snapshot, or queues it until a diskless
    /// one may start or the background job already running ended. +FULLRESYNC with the offset is answered
    /// when the snapshot starts, since the stream it is followed by starts there.
    /// </summary>
    public void BeginFullSync(ClientSession session, bool psync)
    {
        var link = new ReplicaLink(session) { Psync = psync };
        _replicas.Add(link);
        session.Flags |= ClientFlags.Replica;
        _backlog ??= new ReplicationBacklog(server.Config.ReplBacklogSize.Value, Offset);
        FullSyncs++;
        server.Log.ReplicaAsksSync(session.RemoteAddress);
        StartSnapshotIfNeeded();
    }

    /// <summary>
    /// PSYNC <paramref name="replicationId"/> <paramref name="offset"/>: true when the replica can continue from
    /// its offset, which is then answered (+CONTINUE and the backlog from there); false when it needs a full sync.
    /// </summary>
    public bool TryContinue(ClientSession session, RespWriter reply, ReadOnlySpan<byte> replicationId, ReadOnlySpan<byte> offset)
    {
        if (replicationId.SequenceEqual("?"u8))
        {
            return false;
        }
        if (_backlog is null || !RedisInteger.TryParse(offset, out var from) || !_backlog.Covers(from)
            || !(System.Text.Ascii.Equals(replicationId, ReplicationId)
                || (System.Text.Ascii.Equals(replicationId, PreviousReplicationId) && from <= PreviousIdValidUpTo)))
        {
            PartialSyncsRefused++;
            return false;
        }
        _replicas.Add(new ReplicaLink(session) { State = ReplicaState.Online, AckOffset = from - 1 });
        session.Flags |= ClientFlags.Replica;
        reply.WriteSimpleString(System.Text.Encoding.ASCII.GetBytes($"CONTINUE {ReplicationId}"));
        _backlog.CopyFrom(from, reply);
        PartialSyncs++;
        server.Log.ReplicaContinues(session.RemoteAddress, Offset - from + 1);
        return true;
    }

    /// <summary>Appends what a command propagated to the stream of every replica (queued while its snapshot is prepared).</summary>
    public void Feed(OutputBuffer commands)
    {
        Offset += commands.Length;
        _backlog?.Append(commands);
        foreach (var link in _replicas)
        {
            if (link.State == ReplicaState.Online)
            {
                link.Session.WriteStream(commands);
            }
            else
            {
                // Held back until the snapshot is sent, within the replica's output buffer limit.
                Propagation.Copy(commands, link.Pending);
                link.Session.CloseOverOutputLimit("slave", link.Pending.Length);
            }
        }
    }

    /// <summary>REPLCONF ACK from a replica: its processed offset.</summary>
    public void Acknowledge(ClientSession session, long offset)
    {
        foreach (var link in _replicas)
        {
            if (link.Session == session)
            {
                if (link.State == ReplicaState.AwaitingAck)
                {
                    link.Session.WriteStream(link.Pending);
                    link.Pending.Clear();
                    link.State = ReplicaState.Online;
                }
                link.AckOffset = Math.Max(link.AckOffset, offset);
                link.AckMs = Environment.TickCount64;
            }
        }
        ReleaseWaiters();
        server.Failover.Update();
    }

    /// <summary>
    /// Online replicas whose last acknowledgement is at most <c>min-replicas-max-lag</c> seconds old (INFO's
    /// min_slaves_good_slaves), counted in whole seconds as Redis does.
    /// </summary>
    public int GoodReplicas
    {
        get
        {
            var now = Environment.TickCount64;
            var maxLag = server.Config.MinReplicasMaxLag.Value;
            return _replicas.Count(l => l.State == ReplicaState.Online && (now - l.AckMs) / 1000 <= maxLag);
        }
    }

    /// <summary>False when <c>min-replicas-to-write</c> and <c>min-replicas-max-lag</c> are set and too few replicas are good.</summary>
    public bool EnoughGoodReplicas
    {
        get
        {
            var needed = server.Config.MinReplicasToWrite.Value;
            return needed == 0 || server.Config.MinReplicasMaxLag.Value == 0 || GoodReplicas >= needed;
        }
    }

    /// <summary>Replicas that acknowledged the stream up to <paramref name="offset"/>.</summary>
    public int AcknowledgedAt(long offset) => _replicas.Count(l => l.State == ReplicaState.Online && l.AckOffset >= offset);

    /// <summary>
    /// WAIT: answers at once when <paramref name="replicas"/> replicas already acknowledged everything written so
    /// far (or the client may not block), otherwise blocks the client until they do or the timeout passes, and
    /// asks the replicas for an acknowledgement right away (REPLCONF GETACK).
    /// </summary>
    public void Wait(ClientSession session, RespWriter reply, long replicas, long timeoutMs, bool mayBlock)
    {
        var acknowledged = AcknowledgedAt(Offset);
        // Redis keeps the count of a blocked WAIT in an int: past 2^31 it wraps, and a wrapped count that is
        // already reached answers at once (WAIT 2147483648 0 returns 0).
        if (acknowledged >= replicas || acknowledged >= unchecked((int)replicas) || !mayBlock)
        {
            reply.WriteInteger(acknowledged);
            return;
        }
        session.Flags |= ClientFlags.Blocked;
        _waiting.Add((session, Offset, replicas, timeoutMs == 0 ? 0 : Environment.TickCount64 + timeoutMs));
        RequestAcknowledgements();
    }

    /// <summary>Clients blocked in WAIT (they count in INFO's blocked_clients).</summary>
    public int WaitingClients => _waiting.Count;

    /// <summary>
    /// CLIENT UNBLOCK of a client in WAIT: answered now with the replicas acknowledged so far (TIMEOUT) or
    /// -UNBLOCKED (ERROR), as Redis does; false when that client is not waiting.
    /// </summary>
    public bool UnblockWait(long clientId, bool withError)
    {
        var index = _waiting.FindIndex(w => w.Session.Id == clientId);
        if (index < 0)
        {
            return false;
        }
        var (session, offset, _, _) = _waiting[index];
        _waiting.RemoveAt(index);
        var acknowledged = AcknowledgedAt(offset);
        session.WriteRemote(reply =>
        {
            if (withError)
            {
                reply.WriteError("UNBLOCKED client unblocked via CLIENT UNBLOCK");
            }
            else
            {
                reply.WriteInteger(acknowledged);
            }
        });
        session.Unblock();
        return true;
    }

    /// <summary>Asks every replica for its offset now (REPLCONF GETACK *), instead of within the second.</summary>
    public void RequestAcknowledgements() => Feed(GetAck);

    /// <summary>Answers the WAITs whose replicas caught up, whose time is up, or whose client left.</summary>
    private void ReleaseWaiters()
    {
        var now = Environment.TickCount64;
        _waiting.RemoveAll(w =>
        {
            if (w.Session.Released)
            {
                return true;
            }
            var acknowledged = AcknowledgedAt(w.Offset);
            if (acknowledged < w.Replicas && (w.DeadlineMs == 0 || now < w.DeadlineMs))
            {
                return false;
            }
            w.Session.WriteRemote(reply => reply.WriteInteger(acknowledged));
            w.Session.Unblock();
            return true;
        });
    }

    /// <summary>From the cron: forgets replicas whose connection closed, starts waiting syncs, pings the others.</summary>
    public void Cron()
    {
        _replicas.RemoveAll(l => l.Session.Released);
        if (_disklessTransfer is { Abandoned: true })
        {
            _sync?.Cancel();
        }
        ReleaseWaiters();
        server.Failover.Update();
        StartSnapshotIfNeeded();
        var now = Environment.TickCount64;
        if (now - _lastNewlineMs >= 1000)
        {
            // As Redis: replicas waiting for a snapshot to start or be written get a newline a second, so their
            // read timeouts do not fire.
            _lastNewlineMs = now;
            foreach (var link in _replicas.Where(l => l.State is ReplicaState.WaitingStart or ReplicaState.WaitingSnapshot))
            {
                link.Session.WriteRemote(w => w.WriteRaw("\n"u8));
            }
        }
        // A replica's own replicas get its master's PINGs with the rest of the stream.
        // Not while writes are paused (as Redis): the offset a FAILOVER or a move waits for stands still.
        if (now - _lastPingMs >= server.Config.ReplPingReplicaPeriod.Value * 1000 && _replicas.Count > 0 && Link is null && !server.ClientPause.Active)
        {
            _lastPingMs = now;
            Feed(Ping);
        }
    }

    /// <summary>
    /// Starts the snapshot replicas wait for, unless a background job holds the view. With
    /// <c>repl-diskless-sync</c> the replicas that read a transfer of unknown length get it straight from memory,
    /// once <c>repl-diskless-sync-delay</c> passed since the first of them asked (more may come and share it) or
    /// <c>repl-diskless-sync-max-replicas</c> wait; the others get a snapshot file.
    /// </summary>
    private void StartSnapshotIfNeeded()
    {
        if (_sync is not null || server.Keyspace.Snapshot is not null)
        {
            return;
        }
        var waiting = _replicas.FindAll(l => l.State == ReplicaState.WaitingStart);
        if (waiting.Count == 0)
        {
            return;
        }
        var config = server.Config;
        var diskless = config.ReplDisklessSync.Value ? waiting.FindAll(l => l.Session.ReplicaAcceptsEof) : [];
        if (diskless.Count > 0)
        {
            var waitedMs = Environment.TickCount64 - diskless.Min(l => l.SinceMs);
            var enough = config.ReplDisklessSyncMaxReplicas.Value > 0 && diskless.Count >= config.ReplDisklessSyncMaxReplicas.Value;
            if (waitedMs < config.ReplDisklessSyncDelay.Value * 1000 && !enough)
            {
                return;
            }
            waiting = diskless;
        }
        // The stream from here on follows the snapshot: it starts with a SELECT.
        server.Propagation.ForgetSelectedDb();
        var announcement = System.Text.Encoding.ASCII.GetBytes($"+FULLRESYNC {ReplicationId} {Offset}\r\n");
        foreach (var link in waiting)
        {
            link.Pending.Clear();
            link.State = ReplicaState.WaitingSnapshot;
            if (link.Psync)
            {
                link.Session.WriteRemote(w => w.WriteRaw(announcement));
            }
        }
        var format = new RdbSnapshotFormat(server.Config, server.Snapshots.Libraries(), server.UsedMemory(), aofBase: false, SavePosition());
        if (diskless.Count > 0)
        {
            var transfer = new DisklessTransfer();
            foreach (var link in waiting)
            {
                Send(link, transfer.ReaderFor(link.Session), diskless: true);
            }
            _disklessTransfer = transfer;
            _sync = BackgroundSave.Start(server.SaveEnvironment, format, transfer, save => DisklessSnapshotWritten(save, transfer, waiting));
        }
        else
        {
            var path = Path.Combine(server.Config.Dir, $"temp-repl-{Environment.ProcessId}.rdb");
            _sync = BackgroundSave.Start(server.SaveEnvironment, format, path, save => SnapshotWritten(save, waiting));
        }
        server.Log.ReplicaSyncStarted(waiting.Count, diskless.Count > 0 ? "diskless" : "disk");
    }

    /// <summary>
    /// Hands <paramref name="transfer"/> to the replica's connection; the held-back stream follows it, or
    /// after a diskless one, follows the replica's first acknowledgement.
    /// </summary>
    private void Send(ReplicaLink link, SnapshotTransfer transfer, bool diskless)
    {
        link.State = ReplicaState.SendingSnapshot;
        transfer.Sent = () =>
        {
            server.Log.ReplicaSynced(link.Session.RemoteAddress);
            if (diskless)
            {
                link.State = ReplicaState.AwaitingAck;
                return;
            }
            link.Session.Output.TakeFrom(link.Pending);
            link.State = ReplicaState.Online;
        };
        link.Session.StartTransfer(transfer);
    }

    /// <summary>Drops the replicas a failed snapshot was for (they reconnect and ask again).</summary>
    private void SnapshotFailed(BackgroundSave save, List<ReplicaLink> waiting)
    {
        server.Log.ReplicaSyncFailed(save.Error ?? "unknown error");
        foreach (var link in waiting)
        {
            link.Session.Transport?.Close();
            _replicas.Remove(link);
        }
    }

    /// <summary>Sends the snapshot file, then what was written meanwhile, to each replica that waited for it.</summary>
    private void SnapshotWritten(BackgroundSave save, List<ReplicaLink> waiting)
    {
        _sync = null;
        if (!save.Succeeded)
        {
            SnapshotFailed(save, waiting);
            return;
        }
        try
        {
            foreach (var link in waiting.Where(l => !l.Session.Released))
            {
                Send(link, new FileTransfer(save.TargetPath!), diskless: false);
            }
        }
        finally
        {
            // Each transfer holds the file open; it disappears with the last of them.
            File.Delete(save.TargetPath!);
        }
    }

    /// <summary>The diskless snapshot is complete: its closing mark lets the readers finish.</summary>
    private void DisklessSnapshotWritten(BackgroundSave save, DisklessTransfer transfer, List<ReplicaLink> waiting)
    {
        _sync = null;
        _disklessTransfer = null;
        if (save.Succeeded)
        {
            transfer.Complete();
            return;
        }
        transfer.End();
        SnapshotFailed(save, waiting);
    }
}
