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
    private readonly long _startedMs = Environment.TickCount64;
    private NodesFile? _file;
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
        UpdateState();
        SaveIfNeeded();
    }

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
        // Redis's getNodeByQuery: commands without keys run anywhere.
        var info = command.Info;
        if (inExec || !info.HasKeys)
        {
            return null;
        }
        _keyPositions.Clear();
        KeyExtractor.GetKeys(info, args, 0, _keyPositions);
        if (_keyPositions.Count == 0)
        {
            return null;
        }
        // In Redis's order: the first key's slot must be served before the others are compared with it.
        var slot = HashSlot.Of(args[_keyPositions[0]]);
        var owner = _slots[slot];
        if (owner is null)
        {
            return "CLUSTERDOWN Hash slot not served";
        }
        for (var i = 1; i < _keyPositions.Count; i++)
        {
            if (HashSlot.Of(args[_keyPositions[i]]) != slot)
            {
                return "CROSSSLOT Keys in request don't hash to the same slot";
            }
        }
        if (!StateOk)
        {
            if (!server.Config.ClusterAllowReadsWhenDown.Value)
            {
                return "CLUSTERDOWN The cluster is down";
            }
            if ((info.Flags & CommandFlags.Write) != 0)
            {
                return "CLUSTERDOWN The cluster is down and only accepts read commands";
            }
        }
        return owner == Myself ? null : $"MOVED {slot} {owner.Ip}:{owner.Port}";
    }
}
