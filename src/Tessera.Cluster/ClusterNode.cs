using System.Net;
using Tessera.Cluster.Bus;
using Tessera.Core.Commands;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server;
using Tessera.Server.Cluster;
using Tessera.Server.Commands;
using Tessera.Server.Sessions;

namespace Tessera.Cluster;

/// <summary>
/// This node's cluster part (Redis's cluster.c, the part that needs no bus yet): its identity and its view of
/// the nodes and of who serves each of the 16384 slots, kept in nodes.conf; the cluster state (ok or fail) derived
/// from that view; and the routing step of the command pipeline. Used under the execution lock.
/// </summary>
internal sealed class ClusterNode(TesseraServer server) : IClusterNode
{
    /// <summary>As Redis: a master that just started waits this long before declaring the cluster ok.</summary>
    private const long WritableDelayMs = 2000;

    private readonly ClusterPeer?[] _slots = new ClusterPeer?[HashSlot.Count];
    private readonly Dictionary<string, ClusterPeer> _peers = [];
    private readonly List<int> _keyPositions = [];
    private readonly Request _scratch = new();
    private readonly long _startedMs = Environment.TickCount64;
    private NodesFile? _file;
    private ClusterBus? _bus;
    private bool _saveNeeded;

    public ClusterPeer Myself { get; private set; } = null!;

    public IReadOnlyDictionary<string, ClusterPeer> Peers => _peers;

    public long CurrentEpoch { get; set; }

    public long LastVoteEpoch { get; set; }

    /// <summary>True when the cluster state is ok (INFO cluster_state, and whether keys are served).</summary>
    public bool StateOk { get; private set; }

    /// <summary>Masters serving at least one slot (CLUSTER INFO cluster_size); 1 until first computed, as Redis.</summary>
    public int Size { get; private set; } = 1;

    public TesseraServer Server => server;

    public void RegisterCommands(CommandRegistry registry) => ClusterCommands.Register(registry, this);

    public void Start()
    {
        _file = new NodesFile(Path.Combine(server.Config.Dir, server.Config.ClusterConfigFile.Value));
        if (!_file.TryLoad(this))
        {
            Myself = AddPeer(new ClusterPeer(ClusterPeer.NewId()) { IsMyself = true });
            _saveNeeded = true;
        }
        // The ports always follow this process's configuration, whatever the file said.
        Myself.Ip = server.Config.ClusterAnnounceIp.Value;
        Myself.Port = server.Config.ClusterAnnouncePort.Value != 0 ? (int)server.Config.ClusterAnnouncePort.Value : server.Port;
        Myself.BusPort = BusPort();
        Myself.Hostname = server.Config.ClusterAnnounceHostname.Value;
        SaveIfNeeded();
        // A replica restarted from its nodes.conf follows its master again.
        if (Myself.MasterId is { } masterId && _peers.TryGetValue(masterId, out var master))
        {
            server.Replication.BecomeReplica(master.Ip.Length == 0 ? "127.0.0.1" : master.Ip, master.Port);
        }
        _bus = new ClusterBus(this);
        var bind = server.Config.Bind.Select(b => b.TrimStart('-')).FirstOrDefault(b => b.Length > 0) ?? "*";
        _bus.Listen(bind == "*" ? IPAddress.Any : IPAddress.Parse(bind), BusPort());
    }

    private int BusPort()
    {
        var config = server.Config;
        if (config.ClusterAnnounceBusPort.Value != 0)
        {
            return (int)config.ClusterAnnounceBusPort.Value;
        }
        return config.ClusterPort.Value != 0 ? (int)config.ClusterPort.Value : server.Port + 10000;
    }

    public ClusterPeer AddPeer(ClusterPeer peer)
    {
        _peers[peer.Id] = peer;
        if (peer.IsMyself)
        {
            Myself = peer;
        }
        return peer;
    }

    public void Cron()
    {
        _bus?.MaintainLinks(_peers.Values);
        UpdateState();
        SaveIfNeeded();
    }

    public void Stop() => _bus?.Dispose();

    /// <summary>CLUSTER REPLICATE: follows <paramref name="master"/> (its replication starts now) and tells the cluster.</summary>
    public void Replicate(ClusterPeer master)
    {
        Myself.MasterId = master.Id;
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] == Myself)
            {
                _slots[slot] = null;
            }
        }
        Changed();
        server.Replication.BecomeReplica(master.Ip.Length == 0 ? "127.0.0.1" : master.Ip, master.Port);
    }

    /// <summary>CLUSTER MEET: a node to shake hands with at that address (its link sends MEET).</summary>
    public void Meet(string ip, int port, int busPort)
    {
        if (_peers.Values.Any(p => p.Handshake && p.Ip == ip && p.Port == port))
        {
            return;
        }
        AddPeer(new ClusterPeer(ClusterPeer.NewId()) { Ip = ip, Port = port, BusPort = busPort, Handshake = true, Meet = true, Connected = false });
    }

    /// <summary>The message this node sends: its identity, epochs, slots, and gossip about the nodes it knows.</summary>
    public BusMessage Message(BusMessageType type)
    {
        var slots = new byte[HashSlot.Count / 8];
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] == Myself)
            {
                slots[slot / 8] |= (byte)(1 << (slot % 8));
            }
        }
        return new BusMessage
        {
            Type = type,
            SenderId = Myself.Id,
            SenderIp = server.Config.ClusterAnnounceIp.Value,
            Port = Myself.Port,
            BusPort = Myself.BusPort,
            MasterId = Myself.MasterId ?? "",
            ConfigEpoch = Myself.ConfigEpoch,
            CurrentEpoch = CurrentEpoch,
            Slots = slots,
            Gossip = [.. _peers.Values.Where(p => !p.IsMyself && !p.Handshake && p.Ip.Length > 0).Take(32)
                .Select(p => new GossipEntry(p.Id, p.Ip, p.Port, p.BusPort))],
        };
    }

    /// <summary>
    /// Applies a bus message (under the lock): a MEET from an unknown node adds it, and this node learns its own
    /// address from the connection if nobody announced one; a handshake node's first answer gives it its real
    /// id; the sender's address, role and epochs are updated and its slot claims win over owners with an older
    /// config epoch (Redis's clusterUpdateSlotsConfigWith); equal epochs of two masters are told apart by the
    /// greater id taking a new one; nodes gossiped about are met.
    /// </summary>
    public void Receive(BusMessage message, string remoteIp, string localIp, ClusterPeer? link)
    {
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
            if (message.Type != BusMessageType.Meet)
            {
                return;
            }
            sender = AddPeer(new ClusterPeer(message.SenderId));
            changed = true;
        }
        if (link == sender)
        {
            sender.Connected = true;
            sender.Meet = false;
            sender.PingSentMs = 0;
            sender.PongReceivedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }
        var ip = message.SenderIp.Length > 0 ? message.SenderIp : Plain(remoteIp);
        var masterId = message.MasterId.Length == 0 ? null : message.MasterId;
        if (sender.Ip != ip || sender.Port != message.Port || sender.BusPort != message.BusPort || sender.MasterId != masterId || sender.ConfigEpoch != message.ConfigEpoch)
        {
            (sender.Ip, sender.Port, sender.BusPort, sender.MasterId, sender.ConfigEpoch) = (ip, message.Port, message.BusPort, masterId, message.ConfigEpoch);
            changed = true;
        }
        if (message.CurrentEpoch > CurrentEpoch)
        {
            CurrentEpoch = message.CurrentEpoch;
            changed = true;
        }
        if (masterId is null)
        {
            for (var slot = 0; slot < HashSlot.Count; slot++)
            {
                if ((message.Slots[slot / 8] & (1 << (slot % 8))) != 0 && _slots[slot] != sender
                    && (_slots[slot] is null || _slots[slot]!.ConfigEpoch < sender.ConfigEpoch))
                {
                    _slots[slot] = sender;
                    changed = true;
                }
            }
            if (Myself.MasterId is null && sender.ConfigEpoch == Myself.ConfigEpoch && string.CompareOrdinal(sender.Id, Myself.Id) < 0)
            {
                CurrentEpoch++;
                Myself.ConfigEpoch = CurrentEpoch;
                changed = true;
            }
        }
        foreach (var entry in message.Gossip)
        {
            if (entry.Id != Myself.Id && !_peers.ContainsKey(entry.Id) && entry.Ip.Length > 0)
            {
                Meet(entry.Ip, entry.Port, entry.BusPort);
            }
        }
        if (changed)
        {
            Changed();
        }
    }

    /// <summary>An address as text without IPv4-mapped IPv6 dressing.</summary>
    private static string Plain(string ip) => IPAddress.TryParse(ip, out var address) && address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : ip;

    /// <summary>The node serving <paramref name="slot"/>, or null when it is unassigned.</summary>
    public ClusterPeer? OwnerOf(int slot) => _slots[slot];

    /// <summary>Assigns or unassigns a slot; call <see cref="Changed"/> after a batch of them.</summary>
    public void SetOwner(int slot, ClusterPeer? owner) => _slots[slot] = owner;

    /// <summary>Marks the view changed: nodes.conf is rewritten (before the reply goes out) and the state recomputed.</summary>
    public void Changed()
    {
        _saveNeeded = true;
        UpdateState();
        SaveIfNeeded();
    }

    /// <summary>The slots a node serves, as ascending ranges.</summary>
    public List<(int Start, int End)> RangesOf(ClusterPeer peer)
    {
        var ranges = new List<(int, int)>();
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] != peer)
            {
                continue;
            }
            var start = slot;
            while (slot + 1 < HashSlot.Count && _slots[slot + 1] == peer)
            {
                slot++;
            }
            ranges.Add((start, slot));
        }
        return ranges;
    }

    /// <summary>A shard's nodes: <paramref name="master"/>, then its replicas (CLUSTER SLOTS and SHARDS list them so).</summary>
    public List<ClusterPeer> MembersOf(ClusterPeer master) => [master, .. _peers.Values.Where(p => p.MasterId == master.Id)];

    public int AssignedSlots => _slots.Count(s => s is not null);

    /// <summary>
    /// Redis's clusterUpdateState: ok when every slot is served (or <c>cluster-require-full-coverage no</c>), and
    /// not before a master has been up for <see cref="WritableDelayMs"/>.
    /// </summary>
    private void UpdateState()
    {
        if (Myself.MasterId is null && !StateOk && Environment.TickCount64 - _startedMs < WritableDelayMs)
        {
            return;
        }
        var ok = !server.Config.ClusterRequireFullCoverage.Value || Array.TrueForAll(_slots, s => s is not null);
        Size = _peers.Values.Count(p => p.MasterId is null && Array.IndexOf(_slots, p) >= 0);
        StateOk = ok;
    }

    private void SaveIfNeeded()
    {
        if (_saveNeeded && _file is not null)
        {
            _saveNeeded = false;
            _file.Save(this);
        }
    }

    /// <summary>CLUSTER SAVECONFIG: writes nodes.conf now; false (with the reason) when it could not.</summary>
    public string? SaveNow()
    {
        try
        {
            _file!.Save(this);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    public string? Redirect(ClientSession session, ServerCommand command, Request args, bool inExec)
    {
        // Redis's getNodeByQuery: every key of the command (of every queued command, for EXEC) in one slot.
        var slot = -1;
        var writes = false;
        if (inExec)
        {
            foreach (var (queued, queuedArgs) in session.Queued)
            {
                _scratch.Set(queuedArgs);
                if (SlotOf(queued.Info, _scratch, ref slot) is { } error)
                {
                    return error;
                }
                writes |= (queued.Info.Flags & CommandFlags.Write) != 0;
            }
        }
        else
        {
            if (SlotOf(command.Info, args, ref slot) is { } error)
            {
                return error;
            }
            writes = (command.Info.Flags & CommandFlags.Write) != 0;
        }
        if (slot < 0)
        {
            return null;
        }
        var owner = _slots[slot]!;
        if (!StateOk)
        {
            if (!server.Config.ClusterAllowReadsWhenDown.Value)
            {
                return "CLUSTERDOWN The cluster is down";
            }
            if (writes)
            {
                return "CLUSTERDOWN The cluster is down and only accepts read commands";
            }
        }
        if (owner == Myself)
        {
            return null;
        }
        // A replica serves reads of its master's slots to clients that asked with READONLY.
        if (session.ClusterReadOnly && owner.Id == Myself.MasterId && !writes)
        {
            return null;
        }
        return $"MOVED {slot} {owner.Ip}:{owner.Port}";
    }

    /// <summary>
    /// Checks one command's keys against the slot found so far (-1: none yet): in Redis's order, the first key's
    /// slot must be served, and every other key must hash to it.
    /// </summary>
    private string? SlotOf(CommandInfo info, Request args, ref int slot)
    {
        if (info.SingleKeyPosition > 0 && info.SingleKeyPosition < args.Count)
        {
            return Claim(HashSlot.Of(args[info.SingleKeyPosition]), ref slot);
        }
        if (!info.HasKeys)
        {
            return null;
        }
        _keyPositions.Clear();
        KeyExtractor.GetKeys(info, args, 0, _keyPositions);
        foreach (var position in _keyPositions)
        {
            if (Claim(HashSlot.Of(args[position]), ref slot) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    private string? Claim(int keySlot, ref int slot)
    {
        if (slot < 0)
        {
            slot = keySlot;
            return _slots[slot] is null ? "CLUSTERDOWN Hash slot not served" : null;
        }
        return keySlot == slot ? null : "CROSSSLOT Keys in request don't hash to the same slot";
    }
}
