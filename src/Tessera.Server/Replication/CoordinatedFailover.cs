using Microsoft.Extensions.Logging;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>Where a FAILOVER stands (INFO's master_failover_state).</summary>
internal enum FailoverState
{
    None,
    WaitingForSync,
    InProgress,
}

/// <summary>
/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] (Redis 6.2's coordinated failover): the master holds clients'
/// writes, waits until a replica (the one named, or any) acknowledged its whole stream, then becomes a replica
/// of it with PSYNC ... FAILOVER, which tells that replica to promote itself first; the old master then continues
/// as its replica from the same offset, so no acknowledged write is lost. Writes resume (and are refused as on any
/// replica) once the new master accepted the PSYNC. Without FORCE, a timeout aborts; with it, the switch happens
/// anyway. Used under the execution lock.
/// </summary>
internal sealed class CoordinatedFailover(ReplicationMaster replication, ClientPause clientPause, ILogger log)
{
    private string? _host;
    private int _port;
    private long _deadlineMs;
    private bool _force;

    public FailoverState State { get; private set; }

    /// <summary>INFO's master_failover_state.</summary>
    public string StateName => State switch
    {
        FailoverState.WaitingForSync => "waiting-for-sync",
        FailoverState.InProgress => "failover-in-progress",
        _ => "no-failover",
    };

    /// <summary>Starts a failover (arguments already parsed); returns Redis's error, or null once writes are held.</summary>
    public string? Start(string? host, int port, long timeoutMs, bool force)
    {
        if (State != FailoverState.None)
        {
            return "ERR FAILOVER already in progress.";
        }
        if (replication.Link is not null)
        {
            return "ERR FAILOVER is not valid when server is a replica.";
        }
        if (replication.Replicas.Count == 0)
        {
            return "ERR FAILOVER requires connected replicas.";
        }
        if (force && (timeoutMs == 0 || host is null))
        {
            return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
        }
        if (host is not null)
        {
            if (Find(host, port) is not { } target)
            {
                return "ERR FAILOVER target HOST and PORT is not a replica.";
            }
            if (target.State != ReplicaState.Online)
            {
                return "ERR FAILOVER target replica is not online.";
            }
        }
        log.FailoverRequested(host is null ? "any replica" : $"{host}:{port}");
        (_host, _port, _force) = (host, port, force);
        _deadlineMs = timeoutMs == 0 ? 0 : Environment.TickCount64 + timeoutMs;
        State = FailoverState.WaitingForSync;
        clientPause.PauseWritesForFailover();
        // Writes are held now: the replicas' answers to this request show whether they have everything.
        replication.RequestAcknowledgements();
        return null;
    }

    /// <summary>
    /// While waiting for a replica to catch up (from the cron and on every acknowledgement): switches once one
    /// has, or aborts (or without waiting longer, switches with FORCE) when the time is up.
    /// </summary>
    public void Update()
    {
        if (State != FailoverState.WaitingForSync)
        {
            return;
        }
        if (_deadlineMs != 0 && Environment.TickCount64 >= _deadlineMs)
        {
            if (_force)
            {
                log.FailoverForced($"{_host}:{_port}");
                SwitchTo(_host!, _port);
            }
            else
            {
                Abort("Replica never caught up before timeout");
            }
            return;
        }
        var caughtUp = _host is null
            ? replication.Replicas.FirstOrDefault(l => l.State == ReplicaState.Online && l.AckOffset == replication.Offset)
            : Find(_host, _port) is { } target && target.AckOffset == replication.Offset ? target : null;
        if (caughtUp is not null)
        {
            var host = _host ?? caughtUp.AnnouncedHost;
            var port = _host is null ? (int)caughtUp.Session.ReplicaListeningPort : _port;
            log.FailoverTargetSynced($"{host}:{port}");
            SwitchTo(host, port);
        }
    }

    private void SwitchTo(string host, int port)
    {
        State = FailoverState.InProgress;
        replication.BecomeReplica(host, port);
    }

    /// <summary>The new master accepted the old one's PSYNC: the failover is done and writes resume (as a replica's).</summary>
    public void Completed()
    {
        if (State == FailoverState.InProgress)
        {
            log.FailoverCompleted();
            Clear();
        }
    }

    /// <summary>FAILOVER ABORT, a timeout or a refused PSYNC: a master again if the switch had begun, writes resume.</summary>
    public void Abort(string reason)
    {
        if (State == FailoverState.None)
        {
            return;
        }
        log.FailoverAborted(reason);
        if (State == FailoverState.InProgress)
        {
            replication.BecomeMaster();
        }
        Clear();
    }

    private void Clear()
    {
        State = FailoverState.None;
        _host = null;
        clientPause.EndFailoverPause();
    }

    private ReplicaLink? Find(string host, int port)
        => replication.Replicas.FirstOrDefault(l => l.AnnouncedHost == host && l.Session.ReplicaListeningPort == port);
}
