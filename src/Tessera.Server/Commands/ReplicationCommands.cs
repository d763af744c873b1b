using System.Globalization;
using System.Text;
using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>
/// The master's side of replication (Redis's replication.c): REPLCONF, PSYNC and SYNC from a replica, and ROLE.
/// </summary>
internal static class ReplicationCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("replconf", ReplConf);
        r.Add("psync", c => Sync(c, psync: true));
        r.Add("sync", c => Sync(c, psync: false));
        r.Add("role", Role);
        r.Add("wait", Wait);
        r.Add("replicaof", ReplicaOf);
        r.Add("slaveof", ReplicaOf);
        r.Add("failover", Failover);
    }

    /// <summary>FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | ABORT: a coordinated switch to a replica (see CoordinatedFailover).</summary>
    private static void Failover(CommandContext c)
    {
        var failover = c.Server.Failover;
        if (c.ArgCount == 2 && c.ArgIs(1, "abort"u8))
        {
            if (failover.State == Replication.FailoverState.None)
            {
                c.Error("ERR No failover in progress.");
                return;
            }
            failover.Abort("Failover manually aborted");
            c.Reply.WriteLiteral(Replies.Ok);
            return;
        }
        string? host = null;
        long port = 0;
        long timeout = 0;
        var force = false;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (c.ArgIs(i, "timeout"u8) && i + 1 < c.ArgCount && timeout == 0)
            {
                if (!RedisInteger.TryParse(c.Arg(i + 1), out timeout))
                {
                    c.Error(Replies.NotInteger);
                    return;
                }
                if (timeout <= 0)
                {
                    c.Error("ERR FAILOVER timeout must be greater than 0");
                    return;
                }
                i++;
            }
            else if (c.ArgIs(i, "to"u8) && i + 2 < c.ArgCount && host is null)
            {
                if (!RedisInteger.TryParse(c.Arg(i + 2), out port))
                {
                    c.Error(Replies.NotInteger);
                    return;
                }
                host = Encoding.UTF8.GetString(c.Arg(i + 1));
                i += 2;
            }
            else if (c.ArgIs(i, "force"u8) && !force)
            {
                force = true;
            }
            else
            {
                c.Error(Replies.SyntaxError);
                return;
            }
        }
        if (failover.Start(host, (int)Math.Clamp(port, 0, 65535), timeout, force) is { } error)
        {
            c.Error(error);
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>REPLICAOF host port | NO ONE: follows a master from now on, or stops and serves as a master.</summary>
    private static void ReplicaOf(CommandContext c)
    {
        var replication = c.Server.Replication;
        if (c.ArgIs(1, "no"u8) && c.ArgIs(2, "one"u8))
        {
            if (replication.Link is not null)
            {
                replication.BecomeMaster();
                c.Server.Log.MasterModeEnabled();
            }
            c.Reply.WriteLiteral(Replies.Ok);
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(2), out var port) || port is < 0 or > 65535)
        {
            c.Error("ERR Invalid master port");
            return;
        }
        var host = Encoding.UTF8.GetString(c.Arg(1));
        if (replication.Link is { } link && link.Host == host && link.Port == port)
        {
            c.Reply.WriteSimpleString("OK Already connected to specified master"u8);
            return;
        }
        replication.BecomeReplica(host, (int)port);
        c.Server.Log.ReplicaOf(host, (int)port);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>WAIT numreplicas timeout: how many replicas acknowledged this node's writes, waiting up to timeout ms.</summary>
    /// <summary>WAIT numreplicas timeout, checked in Redis's order: a replica refuses, then the count, then the timeout.</summary>
    private static void Wait(CommandContext c)
    {
        if (c.Server.Replication.Link is not null)
        {
            c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(1), out var replicas))
        {
            c.Error("ERR value is not an integer or out of range");
            return;
        }
        if (!RedisInteger.TryParse(c.Arg(2), out var timeout))
        {
            c.Error("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeout < 0)
        {
            c.Error("ERR timeout is negative");
            return;
        }
        c.Server.Replication.Wait(c.Session, c.Reply, replicas, timeout, mayBlock: !c.DenyBlocking);
    }

    /// <summary>
    /// REPLCONF option value ...: what a replica tells its master before and after PSYNC. ACK carries the
    /// replica's offset and gets no reply.
    /// </summary>
    private static void ReplConf(CommandContext c)
    {
        if (c.ArgCount % 2 == 0)
        {
            c.Error(Replies.SyntaxError);
            return;
        }
        var master = c.Server.Replication;
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            if (c.ArgIs(i, "ack"u8))
            {
                if (RedisInteger.TryParse(c.Arg(i + 1), out var offset))
                {
                    master.Acknowledge(c.Session, offset);
                }
                return;
            }
            if (c.ArgIs(i, "listening-port"u8))
            {
                if (!RedisInteger.TryParse(c.Arg(i + 1), out var port))
                {
                    c.Error("ERR value is not an integer or out of range");
                    return;
                }
                c.Session.ReplicaListeningPort = port;
            }
            else if (c.ArgIs(i, "ip-address"u8))
            {
                c.Session.ReplicaAnnouncedIp = Encoding.ASCII.GetString(c.Arg(i + 1));
            }
            else if (c.ArgIs(i, "capa"u8))
            {
                c.Session.ReplicaAcceptsEof |= c.ArgIs(i + 1, "eof"u8);
            }
            else if (!c.ArgIs(i, "getack"u8)
                && !c.ArgIs(i, "rdb-only"u8) && !c.ArgIs(i, "rdb-filter-only"u8))
            {
                c.Error($"ERR Unrecognized REPLCONF option: {Encoding.Latin1.GetString(c.Arg(i))}");
                return;
            }
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// PSYNC replid offset / SYNC: a partial resynchronization when the backlog still holds the replica's
    /// offset, otherwise a full one: +FULLRESYNC, the snapshot once written, then the stream.
    /// </summary>
    private static void Sync(CommandContext c, bool psync)
    {
        if ((c.Session.Flags & ClientFlags.Replica) != 0)
        {
            // Already a replica: Redis ignores a second request.
            return;
        }
        if (psync && c.ArgCount > 3 && c.ArgIs(3, "failover"u8))
        {
            // The master failing over to this replica: promoted first, it then continues the old master's stream.
            if (!Ascii.Equals(c.Arg(1), c.Server.Replication.ReplicationId))
            {
                c.Error("ERR PSYNC FAILOVER replid must match my replid.");
                return;
            }
            c.Server.Replication.BecomeMaster();
            c.Server.Log.MasterModeForFailover(c.Session.RemoteAddress);
        }
        if (c.Server.Failover.State != Replication.FailoverState.None)
        {
            c.Error("NOMASTERLINK Can't SYNC while failing over");
            return;
        }
        if (c.Server.Replication.Link is { State: not Replication.MasterLinkState.Connected })
        {
            c.Error("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
        if (!psync || !c.Server.Replication.TryContinue(c.Session, c.Reply, c.Arg(1), c.Arg(2)))
        {
            c.Server.Replication.BeginFullSync(c.Session, psync);
        }
    }

    /// <summary>
    /// ROLE as a master: ["master", offset, [[ip, port, acknowledged offset], ...]]; as a replica: ["slave",
    /// master host, master port, link state, offset].
    /// </summary>
    private static void Role(CommandContext c)
    {
        var master = c.Server.Replication;
        var w = c.Reply;
        if (master.Link is { } masterLink)
        {
            w.WriteArrayHeader(5);
            w.WriteBulk("slave"u8);
            w.WriteBulk(Encoding.UTF8.GetBytes(masterLink.Host));
            w.WriteInteger(masterLink.Port);
            w.WriteBulk(masterLink.State switch
            {
                Replication.MasterLinkState.Connected => "connected"u8,
                Replication.MasterLinkState.Syncing => "sync"u8,
                _ => "connecting"u8,
            });
            w.WriteInteger(master.KnowsMaster ? master.Offset : -1);
            return;
        }
        w.WriteArrayHeader(3);
        w.WriteBulk("master"u8);
        w.WriteInteger(master.Offset);
        w.WriteArrayHeader(master.Replicas.Count);
        foreach (var link in master.Replicas)
        {
            w.WriteArrayHeader(3);
            w.WriteBulk(Encoding.ASCII.GetBytes(link.AnnouncedHost));
            w.WriteBulk(Encoding.ASCII.GetBytes(link.Session.ReplicaListeningPort.ToString(CultureInfo.InvariantCulture)));
            w.WriteBulk(Encoding.ASCII.GetBytes(link.AckOffset.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
