using Tessera.Resp;

namespace Tessera.Server.Sessions;

/// <summary>Session state changed by commands (SELECT, AUTH, RESET) and output written from other threads.</summary>
internal sealed partial class ClientSession
{
    /// <summary>The selected database number.</summary>
    public int DbIndex => Db.Index;

    /// <summary>Switches to database <paramref name="index"/> (already validated).</summary>
    public void Select(int index) => Db = _server.Keyspace.Databases[index];

    /// <summary>Marks the session authenticated as <paramref name="user"/>.</summary>
    public void Authenticate(Acl.AclUser user)
    {
        Authenticated = true;
        User = user;
        _parser.Unauthenticated = false;
    }

    /// <summary>The session's user was deleted: it falls back to the default user, unauthenticated.</summary>
    public void Deauthenticate(Acl.AclUser defaultUser)
    {
        Authenticated = false;
        User = defaultUser;
    }

    /// <summary>RESET: back to a fresh connection's state (database 0, RESP2, no name, reply on, the default user, authenticated only if it needs no password).</summary>
    public void Reset()
    {
        DiscardTransaction();
        _server.PubSub.UnsubscribeAll(this);
        _server.Tracking.Disable(this);
        Select(0);
        Protocol = 2;
        Name = null;
        // As Redis's clearClientConnectionState: the connection's own kind and CLIENT NO-EVICT stay.
        Flags &= ClientFlags.UnixSocket | ClientFlags.NoEvict;
        ClusterReadOnly = false;
        User = _server.Acl.Default;
        Authenticated = !_server.Acl.AuthRequired;
        _parser.Unauthenticated = !Authenticated;
        _server.Monitors.Remove(this);
    }

    /// <summary>
    /// Writes to this session from another session's command (a monitor line, later pub/sub messages and
    /// unblocked replies): the bytes are queued under a small lock and the owning loop is woken to send them.
    /// </summary>
    public void WriteRemote(Action<RespWriter> write)
    {
        lock (_remoteLock)
        {
            write(_remote);
            _remotePending = true;
        }
        Transport?.Wake();
    }

    /// <summary>Bytes queued by <see cref="WriteRemote"/> and not yet moved to <see cref="Output"/>.</summary>
    public long RemoteOutputLength
    {
        get
        {
            lock (_remoteLock)
            {
                return _remote.Length;
            }
        }
    }

    /// <summary>Moves remotely written replies behind this session's own (on the owning loop).</summary>
    public void DrainRemoteOutput()
    {
        lock (_remoteLock)
        {
            if (!_remote.IsEmpty)
            {
                Output.TakeFrom(_remote);
            }
            _remotePending = false;
        }
    }

    /// <summary>Lets a postponed session run again (CLIENT UNPAUSE or the pause timing out).</summary>
    public void Resume()
    {
        Flags &= ~ClientFlags.Paused;
        Transport?.Wake();
    }

    /// <summary>
    /// Why replication refuses a write from this client now, or null: a read-only replica takes writes only from
    /// its master; a master with <c>min-replicas-to-write</c> needs that many replicas that acknowledged within
    /// <c>min-replicas-max-lag</c> seconds.
    /// </summary>
    public string? ReplicationRefusesWrite()
    {
        var replication = _server.Replication;
        if (replication.Link is not null)
        {
            return _server.Config.ReplicaReadOnly.Value && (Flags & ClientFlags.Master) == 0 ? "READONLY You can't write against a read only replica." : null;
        }
        return replication.EnoughGoodReplicas ? null : "NOREPLICAS Not enough good replicas to write.";
    }

    /// <summary>
    /// The out-of-memory state when the current command started (Redis's pre_command_oom_state): used memory over
    /// maxmemory after eviction did what it could. Scripts check it for the writes they run.
    /// </summary>
    public bool PreCommandOom { get; private set; }

    /// <summary>REPLCONF listening-port: the port a replica serves on (INFO's slaveN, ROLE).</summary>
    public long ReplicaListeningPort { get; set; }

    /// <summary>READONLY in cluster mode: reads of the master's slots may be served by this replica.</summary>
    public bool ClusterReadOnly { get; set; }

    /// <summary>ASKING in cluster mode: the next command may use a slot this node is importing.</summary>
    public bool ClusterAsking { get; set; }

    /// <summary>REPLCONF ip-address: the address a replica wants to be known by, or null.</summary>
    public string? ReplicaAnnouncedIp { get; set; }

    /// <summary>REPLCONF capa eof: the replica reads a snapshot of unknown length (a diskless transfer).</summary>
    public bool ReplicaAcceptsEof { get; set; }

    private Replication.SnapshotTransfer? _transfer;

    /// <summary>
    /// Sends <paramref name="transfer"/> after the output queued so far (a replica's snapshot, from the thread
    /// that prepared it); abandoned at once when the connection already closed.
    /// </summary>
    public void StartTransfer(Replication.SnapshotTransfer transfer)
    {
        lock (_remoteLock)
        {
            if (Released)
            {
                transfer.Abandon();
                return;
            }
            _transfer = transfer;
        }
        Transport?.Wake();
    }

    /// <summary>
    /// On the owning loop, once the output was sent: moves the next block of a snapshot transfer to the output.
    /// False when there is none or its next bytes are not ready; at its end the transfer's completion runs.
    /// </summary>
    public bool PullTransfer()
    {
        var transfer = Volatile.Read(ref _transfer);
        if (transfer is null)
        {
            return false;
        }
        // What was queued from other threads before the transfer started (+FULLRESYNC) goes first.
        DrainRemoteOutput();
        if (!Output.IsEmpty || transfer.PullInto(Output))
        {
            return true;
        }
        if (!transfer.IsComplete)
        {
            return false;
        }
        lock (_remoteLock)
        {
            _transfer = null;
        }
        lock (_server.ExecutionLock)
        {
            transfer.Sent?.Invoke();
        }
        return !Output.IsEmpty;
    }

    /// <summary>True once the connection closed (read by the replication cron from its own thread).</summary>
    public bool Released { get => Volatile.Read(ref _released); private set => Volatile.Write(ref _released, value); }

    private bool _released;

    /// <summary>Releases buffers when the connection closes.</summary>
    public void Release()
    {
        Released = true;
        if (_input is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_input);
            _input = null;
        }
        Output.Clear();
        lock (_remoteLock)
        {
            _remote.Clear();
            _transfer?.Abandon();
            _transfer = null;
        }
    }
}
