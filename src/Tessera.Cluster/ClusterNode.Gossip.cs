using System.Net;
using Tessera.Cluster.Bus;
using Tessera.Core.Hashing;

namespace Tessera.Cluster;

/// <summary>
/// What the bus carries into and out of the node's view: the message this node sends, the handshake, the sender's
/// address, role, epochs and slot claims applied on receipt, and failure detection (Redis Cluster's PFAIL -> FAIL:
/// a node unanswered for the node timeout is PFAIL here; once a majority of masters report it in their gossip,
/// it is FAIL everywhere).
/// </summary>
internal sealed partial class ClusterNode
{
    /// <summary>Nodes removed by CLUSTER FORGET, not met again through gossip until the time given (Unix ms).</summary>
    private readonly Dictionary<string, long> _forgotten = [];

    /// <summary>CLUSTER MEET: a node to shake hands with at that address (its link sends MEET).</summary>
    public void Meet(string ip, int port, int busPort)
    {
        if (_peers.Values.Any(p => p.Handshake && p.Ip == ip && p.Port == port))
        {
            return;
        }
        AddPeer(new ClusterPeer(ClusterPeer.NewId()) { Ip = ip, Port = port, BusPort = busPort, Handshake = true, Meet = true, Connected = false, HandshakeStartMs = NowMs });
    }

    /// <summary>CLUSTER FORGET: drops the node, which gossip does not bring back for a minute (as Redis).</summary>
    public void Forget(ClusterPeer peer)
    {
        RemovePeer(peer);
        _forgotten[peer.Id] = NowMs + 60_000;
        Changed();
    }

    private void RemovePeer(ClusterPeer peer)
    {
        _peers.Remove(peer.Id);
        ReleaseSlotsOf(peer);
        foreach (var other in _peers.Values)
        {
            other.FailureReports.Remove(peer.Id);
        }
    }

    /// <summary>
    /// The message this node sends: its identity, epochs, slots (a replica's master's, as Redis), replication
    /// offset, and gossip about the nodes it knows with what it believes of their health.
    /// </summary>
    public BusMessage Message(BusMessageType type, string subjectId = "", byte[]? channel = null, byte[]? payload = null)
    {
        var master = Myself.MasterId is { } masterId && _peers.TryGetValue(masterId, out var known) ? known : Myself;
        var slots = new byte[HashSlot.Count / 8];
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] == master)
            {
                slots[slot / 8] |= (byte)(1 << (slot % 8));
            }
        }
        var flags = BusMessageFlags.None;
        if (Myself.MasterId is null && _manualFailover.Replica is not null)
        {
            flags |= BusMessageFlags.Paused;
        }
        if (type == BusMessageType.AuthRequest && _manualFailover.CanStart)
        {
            flags |= BusMessageFlags.ForceAck;
        }
        return new BusMessage
        {
            Type = type,
            SenderId = Myself.Id,
            SenderIp = host.Settings.AnnounceIp,
            Port = Myself.Port,
            BusPort = Myself.BusPort,
            MasterId = Myself.MasterId ?? "",
            ConfigEpoch = master.ConfigEpoch,
            CurrentEpoch = CurrentEpoch,
            Flags = flags,
            ReplicationOffset = host.Replication.Offset,
            SubjectId = subjectId,
            Channel = channel ?? [],
            Payload = payload ?? [],
            Slots = slots,
            Gossip = [.. _peers.Values.Where(p => !p.IsMyself && !p.Handshake && p.Ip.Length > 0).Take(32)
                .Select(p => new GossipEntry(p.Id, p.Ip, p.Port, p.BusPort, (p.PFail ? GossipFlags.PFail : 0) | (p.Fail ? GossipFlags.Fail : 0)))],
        };
    }

    public void Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool sharded)
    {
        if (_bus is null)
        {
            return;
        }
        var shardMaster = Myself.MasterId ?? Myself.Id;
        var type = sharded ? BusMessageType.PublishShard : BusMessageType.Publish;
        _bus.Broadcast(Message(type, channel: channel.ToArray(), payload: message.ToArray()),
            p => !sharded || p.Id == shardMaster || p.MasterId == shardMaster);
    }

    /// <summary>
    /// Applies a bus message (under the lock): a MEET from an unknown node adds it, and this node learns its own
    /// address from the connection if nobody announced one; a handshake node's first answer gives it its real
    /// id; the sender's address, role and epochs are updated and its slot claims win over owners with an older
    /// config epoch (Redis's clusterUpdateSlotsConfigWith), which may turn this node into the replica of the
    /// sender; equal epochs of two masters are told apart by the greater id taking a new one; nodes gossiped about
    /// are met, and their health counts as a failure report when a master gives it. Then the message's own
    /// business: FAIL, votes, manual failover, published messages.
    /// </summary>
    /// <summary>A message type as Redis numbers it (CLUSTERMSG_TYPE_*), for DEBUG DROP-CLUSTER-PACKET-FILTER.</summary>
    private static int RedisPacketType(BusMessageType type) => type switch
    {
        BusMessageType.Ping => 0,
        BusMessageType.Pong => 1,
        BusMessageType.Meet => 2,
        BusMessageType.Fail => 3,
        BusMessageType.Publish => 4,
        BusMessageType.AuthRequest => 5,
        BusMessageType.AuthAck => 6,
        BusMessageType.ManualFailoverStart => 8,
        BusMessageType.PublishShard => 10,
        _ => -1,
    };

    public void Receive(BusMessage message, string remoteIp, string localIp, ClusterPeer? link)
    {
        if (host.DroppedBusPacketType == RedisPacketType(message.Type))
        {
            host.Log.ClusterPacketDropped();
            return;
        }
        var changed = false;
        // As Redis: a node that does not know its address takes the one another node reached it at.
        if (link is null && Myself.Ip.Length == 0 && localIp.Length > 0)
        {
            Myself.Ip = Plain(localIp);
            changed = true;
        }
        if (message.SenderId == Myself.Id)
        {
            return;
        }
        _peers.TryGetValue(message.SenderId, out var sender);
        if (link is { Handshake: true })
        {
            _peers.Remove(link.Id);
            if (sender is not null)
            {
                // Met twice under two addresses: the node is known already.
                Changed();
                return;
            }
            link.Id = message.SenderId;
            link.Handshake = false;
            link.Meet = false;
            _peers[link.Id] = link;
            sender = link;
            changed = true;
        }
        if (sender is null)
        {
            if (message.Type != BusMessageType.Meet || _forgotten.ContainsKey(message.SenderId))
            {
                return;
            }
            sender = AddPeer(new ClusterPeer(message.SenderId));
            changed = true;
        }
        var now = NowMs;
        if (link == sender)
        {
            sender.Connected = true;
            sender.Meet = false;
            sender.PingSentMs = 0;
            sender.PongReceivedMs = now;
            changed |= ClearFailureIfNeeded(sender, now);
        }
        var ip = message.SenderIp.Length > 0 ? message.SenderIp : Plain(remoteIp);
        var masterId = message.MasterId.Length == 0 ? null : message.MasterId;
        if (sender.MasterId is null && masterId is not null)
        {
            // A master turned replica (a failover elsewhere) serves no slots any more.
            ReleaseSlotsOf(sender);
        }
        if (sender.Ip != ip || sender.Port != message.Port || sender.BusPort != message.BusPort || sender.MasterId != masterId || sender.ConfigEpoch != message.ConfigEpoch)
        {
            (sender.Ip, sender.Port, sender.BusPort, sender.MasterId, sender.ConfigEpoch) = (ip, message.Port, message.BusPort, masterId, message.ConfigEpoch);
            changed = true;
        }
        sender.ReplicationOffset = message.ReplicationOffset;
        if (masterId is not null && _peers.TryGetValue(masterId, out var sendersMaster))
        {
            sendersMaster.HadReplicas = true;
        }
        // Epochs must survive a crash (votes depend on them): those changes reach the disk.
        var durable = false;
        if (message.CurrentEpoch > CurrentEpoch)
        {
            CurrentEpoch = message.CurrentEpoch;
            changed = durable = true;
        }
        if (masterId is null)
        {
            changed |= TakeClaims(sender, message);
            if (Myself.MasterId is null && sender.ConfigEpoch == Myself.ConfigEpoch && string.CompareOrdinal(sender.Id, Myself.Id) < 0)
            {
                CurrentEpoch++;
                Myself.ConfigEpoch = CurrentEpoch;
                changed = durable = true;
            }
        }
        changed |= ReadGossip(sender, message, now);
        if (changed)
        {
            Changed(durable);
        }
        switch (message.Type)
        {
            case BusMessageType.Fail:
                MarkFailed(message.SubjectId, now);
                break;
            case BusMessageType.AuthRequest:
                VoteIfAllowed(sender, message, now);
                break;
            case BusMessageType.AuthAck:
                CountVote(sender, message);
                break;
            case BusMessageType.ManualFailoverStart:
                StartManualFailoverAsMaster(sender);
                break;
            case BusMessageType.Publish or BusMessageType.PublishShard:
                host.PublishLocally(message.Channel, message.Payload, sharded: message.Type == BusMessageType.PublishShard);
                break;
        }
        if ((message.Flags & BusMessageFlags.Paused) != 0 && sender.Id == Myself.MasterId)
        {
            _manualFailover.MasterPaused(message.ReplicationOffset);
        }
    }

    /// <summary>
    /// The sender's slot claims win over owners with an older config epoch. When this node (or its master) loses
    /// its last slot that way, the sender took over: this node follows it (Redis's clusterUpdateSlotsConfigWith).
    /// </summary>
    private bool TakeClaims(ClusterPeer sender, BusMessage message)
    {
        var changed = false;
        var myMaster = Myself.MasterId is { } id ? _peers.GetValueOrDefault(id) : Myself;
        var lostToSender = false;
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (!message.ClaimsSlot(slot) || _slots[slot] == sender || _importing[slot] is not null)
            {
                continue;
            }
            var owner = _slots[slot];
            if (owner is not null && owner.ConfigEpoch >= message.ConfigEpoch)
            {
                continue;
            }
            if (owner is not null && owner == myMaster)
            {
                lostToSender = true;
                if (owner == Myself)
                {
                    DropKeysOf(slot);
                }
            }
            _slots[slot] = sender;
            _migrating[slot] = null;
            changed = true;
        }
        if (lostToSender && myMaster is not null && !ServesSlots(myMaster))
        {
            Follow(sender);
        }
        return changed;
    }

    /// <summary>Unassigns the slots of a node that stopped serving them; call <see cref="Changed"/> after.</summary>
    public void ReleaseSlotsOf(ClusterPeer peer)
    {
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] == peer)
            {
                _slots[slot] = null;
            }
        }
    }

    /// <summary>Meets nodes gossiped about; a master's word on another node's health is a failure report.</summary>
    private bool ReadGossip(ClusterPeer sender, BusMessage message, long now)
    {
        var changed = false;
        foreach (var entry in message.Gossip)
        {
            if (entry.Id == Myself.Id)
            {
                continue;
            }
            if (!_peers.TryGetValue(entry.Id, out var peer))
            {
                if (entry.Ip.Length > 0 && !_forgotten.ContainsKey(entry.Id) && (entry.Flags & GossipFlags.Fail) == 0)
                {
                    Meet(entry.Ip, entry.Port, entry.BusPort);
                }
                continue;
            }
            if (sender.MasterId is not null)
            {
                continue;
            }
            if (entry.Flags != GossipFlags.None)
            {
                peer.FailureReports[sender.Id] = now;
                changed |= MarkFailingIfNeeded(peer, now);
            }
            else
            {
                peer.FailureReports.Remove(sender.Id);
            }
        }
        return changed;
    }

    /// <summary>From the cron: nodes unanswered for the node timeout become PFAIL; stale handshakes and forgets expire.</summary>
    private void DetectFailures(long now)
    {
        var timeout = NodeTimeoutMs;
        foreach (var peer in _peers.Values.ToList())
        {
            if (peer.IsMyself)
            {
                continue;
            }
            if (peer.Handshake)
            {
                // As Redis: a handshake that got no answer within the node timeout (at least a second) is dropped.
                if (now - peer.HandshakeStartMs > Math.Max(timeout, 1000))
                {
                    _peers.Remove(peer.Id);
                }
                continue;
            }
            if (peer.PingSentMs != 0 && now - peer.PingSentMs > timeout && !peer.Failing)
            {
                peer.PFail = true;
            }
        }
        foreach (var (id, until) in _forgotten.ToList())
        {
            if (now > until)
            {
                _forgotten.Remove(id);
            }
        }
    }

    /// <summary>
    /// Redis's markNodeAsFailingIfNeeded: a node this node holds PFAIL becomes FAIL once the masters reporting
    /// it within two node timeouts (this node included, if a master) are a majority of the masters serving
    /// slots; the cluster is told with a FAIL message.
    /// </summary>
    private bool MarkFailingIfNeeded(ClusterPeer peer, long now)
    {
        if (!peer.PFail || peer.Fail)
        {
            return false;
        }
        var validity = NodeTimeoutMs * 2;
        foreach (var (reporter, at) in peer.FailureReports.ToList())
        {
            if (now - at > validity)
            {
                peer.FailureReports.Remove(reporter);
            }
        }
        var reports = peer.FailureReports.Count + (Myself.MasterId is null ? 1 : 0);
        if (reports < Size / 2 + 1)
        {
            return false;
        }
        SetFailed(peer, now);
        _bus?.Broadcast(Message(BusMessageType.Fail, subjectId: peer.Id), _ => true);
        return true;
    }

    /// <summary>CLUSTER COUNT-FAILURE-REPORTS: the masters reporting <paramref name="peer"/> within two node timeouts.</summary>
    public int FailureReportsOn(ClusterPeer peer) => peer.FailureReports.Values.Count(at => NowMs - at <= NodeTimeoutMs * 2);

    private void MarkFailed(string id, long now)
    {
        if (_peers.TryGetValue(id, out var peer) && !peer.IsMyself && !peer.Fail)
        {
            SetFailed(peer, now);
            Changed();
        }
    }

    private static void SetFailed(ClusterPeer peer, long now)
    {
        peer.PFail = false;
        peer.Fail = true;
        peer.FailTimeMs = now;
    }

    /// <summary>
    /// A node that answers again is not PFAIL; a FAIL is lifted at once for a replica or a master without slots,
    /// and for a master with slots only after two node timeouts without a replica taking them (Redis's
    /// clearNodeFailureIfNeeded).
    /// </summary>
    private bool ClearFailureIfNeeded(ClusterPeer peer, long now)
    {
        if (peer.PFail)
        {
            peer.PFail = false;
            return true;
        }
        if (peer.Fail && (peer.MasterId is not null || !ServesSlots(peer) || now - peer.FailTimeMs > NodeTimeoutMs * 2))
        {
            peer.Fail = false;
            return true;
        }
        return false;
    }

    /// <summary>An address as text without IPv4-mapped IPv6 dressing.</summary>
    private static string Plain(string ip) => IPAddress.TryParse(ip, out var address) && address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : ip;
}
