using System.Net;
using Tessera.Cluster.Bus;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server.Cluster;
using Tessera.Server.Commands;

namespace Tessera.Cluster;

/// <summary>
/// This node's cluster part (Redis's cluster.c): its identity and its view of the nodes and of who serves each of
/// the 16384 slots, kept in nodes.conf, and the cluster state (ok or fail) derived from that view. The bus traffic
/// and failure detection (ClusterNode.Gossip.cs), failover (ClusterNode.Failover.cs) and the routing step of the
/// command pipeline with slot migration (ClusterNode.Routing.cs) are the other parts. Used under the execution lock.
/// </summary>
internal sealed partial class ClusterNode(IClusterHost host) : IClusterNode
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
    private bool _fsyncNeeded;

    public ClusterPeer Myself { get; private set; } = null!;

    public IReadOnlyDictionary<string, ClusterPeer> Peers => _peers;

    public int KnownNodes => _peers.Count;

    /// <summary>The bus links for CLUSTER LINKS (under the lock); none before the bus listens.</summary>
    public List<BusLinkInfo> Links() => _bus?.Links() ?? [];

    public long CurrentEpoch { get; set; }

    public long LastVoteEpoch { get; set; }

    /// <summary>True when the cluster state is ok (INFO cluster_state, and whether keys are served).</summary>
    public bool StateOk { get; private set; }

    /// <summary>Masters serving at least one slot (CLUSTER INFO cluster_size); 1 until first computed, as Redis.</summary>
    public int Size { get; private set; } = 1;

    public IClusterHost Host => host;

    /// <summary><c>cluster-node-timeout</c>: how long a node may not answer before it counts as failing.</summary>
    public long NodeTimeoutMs => host.Settings.NodeTimeoutMs;

    /// <summary>The clock of the bus (Unix ms), which CLUSTER NODES shows for pings and pongs.</summary>
    public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public void RegisterCommands(ICommandRegistration registry) => ClusterCommands.Register(registry, this);

    public void Start()
    {
        _file = new NodesFile(host.Settings.ConfigFilePath);
        if (!_file.TryLoad(this))
        {
            Myself = AddPeer(new ClusterPeer(ClusterPeer.NewId()) { IsMyself = true });
            _saveNeeded = true;
        }
        // The ports always follow this process's configuration, whatever the file said.
        Myself.Ip = host.Settings.AnnounceIp;
        Myself.Port = host.Settings.AnnouncePort != 0 ? host.Settings.AnnouncePort : host.Settings.Port;
        Myself.BusPort = BusPort();
        Myself.Hostname = host.Settings.AnnounceHostname;
        SaveIfNeeded();
        // A replica restarted from its nodes.conf follows its master again.
        if (Myself.MasterId is { } masterId && _peers.TryGetValue(masterId, out var master))
        {
            Follow(master);
        }
        _bus = new ClusterBus(this);
        var bind = host.Settings.BindAddress;
        _bus.Listen(bind == "*" ? IPAddress.Any : IPAddress.Parse(bind), BusPort());
    }

    private int BusPort()
    {
        var settings = host.Settings;
        if (settings.AnnounceBusPort != 0)
        {
            return settings.AnnounceBusPort;
        }
        return settings.ClusterPort != 0 ? settings.ClusterPort : settings.Port + 10000;
    }

    /// <summary>
    /// CLUSTER RESET (Redis's clusterReset): a replica becomes an empty master; every slot is dropped, open ones
    /// closed, every other node forgotten; HARD also zeroes the epochs and takes a new id. Written to disk at once.
    /// </summary>
    public void Reset(bool hard)
    {
        if (Myself.MasterId is not null)
        {
            Myself.MasterId = null;
            host.Replication.BecomeMaster();
            host.Keys.DropAll();
        }
        _manualFailover.Reset(this);
        _electionTimeMs = 0;
        Array.Clear(_slots);
        Array.Clear(_migrating);
        Array.Clear(_importing);
        foreach (var peer in _peers.Values.Where(p => !p.IsMyself).ToList())
        {
            _peers.Remove(peer.Id);
        }
        Myself.FailureReports.Clear();
        if (hard)
        {
            (CurrentEpoch, LastVoteEpoch, Myself.ConfigEpoch) = (0, 0, 0);
            _peers.Remove(Myself.Id);
            Myself.Id = ClusterPeer.NewId();
            _peers[Myself.Id] = Myself;
        }
        Changed(durable: true);
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
        var now = NowMs;
        DetectFailures(now);
        _bus?.MaintainLinks(_peers.Values);
        HandleReplicaFailover(now);
        MigrateToOrphanedMaster(now);
        UpdateState();
        SaveIfNeeded();
    }

    public void Stop()
    {
        _bus?.Dispose();
        SaveIfNeeded();
    }

    /// <summary>CLUSTER REPLICATE: follows <paramref name="master"/> (its replication starts now) and tells the cluster.</summary>
    public void Replicate(ClusterPeer master)
    {
        Follow(master);
        Changed();
    }

    /// <summary>The node serving <paramref name="slot"/>, or null when it is unassigned.</summary>
    public ClusterPeer? OwnerOf(int slot) => _slots[slot];

    /// <summary>Assigns or unassigns a slot; call <see cref="Changed"/> after a batch of them.</summary>
    public void SetOwner(int slot, ClusterPeer? owner) => _slots[slot] = owner;

    /// <summary>
    /// Marks the view changed: the state is recomputed and nodes.conf rewritten. Changes to epochs and votes
    /// (<paramref name="durable"/>) must survive a crash for elections to stay sound: the file is written and
    /// flushed to the disk before the reply goes out. Others (slots, roles, addresses) are written by the next
    /// cron tick, without a flush, as Redis writes them without one: a node learns them again from the cluster.
    /// </summary>
    public void Changed(bool durable = false)
    {
        _saveNeeded = true;
        UpdateState();
        if (durable)
        {
            _fsyncNeeded = true;
            SaveIfNeeded();
        }
    }

    /// <summary>The slots each node serves, as ascending ranges, in one pass over the slots.</summary>
    public Dictionary<ClusterPeer, List<(int Start, int End)>> Ranges()
    {
        var ranges = new Dictionary<ClusterPeer, List<(int Start, int End)>>();
        for (var slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_slots[slot] is not { } owner)
            {
                continue;
            }
            var start = slot;
            while (slot + 1 < HashSlot.Count && _slots[slot + 1] == owner)
            {
                slot++;
            }
            if (!ranges.TryGetValue(owner, out var list))
            {
                ranges[owner] = list = [];
            }
            list.Add((start, slot));
        }
        return ranges;
    }

    /// <summary>True when <paramref name="peer"/> serves at least one slot.</summary>
    public bool ServesSlots(ClusterPeer peer) => Array.IndexOf(_slots, peer) >= 0;

    /// <summary>A shard's nodes: <paramref name="master"/>, then its replicas (CLUSTER SLOTS and SHARDS list them so).</summary>
    public List<ClusterPeer> MembersOf(ClusterPeer master) => [master, .. _peers.Values.Where(p => p.MasterId == master.Id)];

    public int AssignedSlots => _slots.Count(s => s is not null);

    /// <summary>
    /// Redis's clusterUpdateState: ok when every slot is served by a node not FAIL (or
    /// <c>cluster-require-full-coverage no</c>) and a majority of the masters serving slots is reachable, and not
    /// before a master has been up for <see cref="WritableDelayMs"/>. Counts the slots PFAIL and FAIL too.
    /// </summary>
    private void UpdateState()
    {
        if (Myself.MasterId is null && !StateOk && Environment.TickCount64 - _startedMs < WritableDelayMs)
        {
            return;
        }
        var served = new HashSet<ClusterPeer>();
        var (unserved, pfail, fail) = (0, 0, 0);
        ClusterPeer? previous = null;
        foreach (var owner in _slots)
        {
            if (owner is null)
            {
                unserved++;
                continue;
            }
            if (owner != previous)
            {
                // Slots come in long runs of one owner: the set sees each run once.
                served.Add(owner);
                previous = owner;
            }
            pfail += owner.PFail ? 1 : 0;
            fail += owner.Fail ? 1 : 0;
        }
        (SlotsPFail, SlotsFail) = (pfail, fail);
        var covered = !host.Settings.RequireFullCoverage || (unserved == 0 && fail == 0);
        Size = served.Count(p => p.MasterId is null);
        var reachable = served.Count(p => p.MasterId is null && !p.Failing);
        StateOk = covered && reachable >= Size / 2 + 1;
    }

    /// <summary>Slots whose owner is PFAIL or FAIL (CLUSTER INFO cluster_slots_pfail / _fail).</summary>
    public int SlotsPFail { get; private set; }

    public int SlotsFail { get; private set; }

    private void SaveIfNeeded()
    {
        if (_saveNeeded && _file is not null)
        {
            _file.Save(this, _fsyncNeeded);
            (_saveNeeded, _fsyncNeeded) = (false, false);
        }
    }

    /// <summary>CLUSTER SAVECONFIG: writes nodes.conf now; false (with the reason) when it could not.</summary>
    public string? SaveNow()
    {
        try
        {
            _file!.Save(this, durable: true);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }
}
