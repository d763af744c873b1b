using System.Globalization;
using System.Text;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server.Commands;

namespace Tessera.Cluster;

/// <summary>
/// The CLUSTER command family in cluster mode, with Redis 7.0's replies and error texts (cluster.c's
/// clusterCommand), plus ASKING, READONLY and READWRITE.
/// </summary>
internal static partial class ClusterCommands
{
    public static void Register(ICommandRegistration r, ClusterNode node)
    {
        r.Add("cluster|myid", c => c.Reply.WriteBulk(Encoding.ASCII.GetBytes(node.Myself.Id)));
        r.Add("cluster|keyslot", c => c.Reply.WriteInteger(HashSlot.Of(c.Arg(2))));
        r.Add("cluster|countkeysinslot", c => CountKeysInSlot(c, node));
        r.Add("cluster|getkeysinslot", c => GetKeysInSlot(c, node));
        r.Add("cluster|addslots", c => ChangeSlots(c, node, add: true, ranges: false));
        r.Add("cluster|addslotsrange", c => ChangeSlots(c, node, add: true, ranges: true));
        r.Add("cluster|delslots", c => ChangeSlots(c, node, add: false, ranges: false));
        r.Add("cluster|delslotsrange", c => ChangeSlots(c, node, add: false, ranges: true));
        r.Add("cluster|flushslots", c => FlushSlots(c, node));
        r.Add("cluster|info", c => Info(c, node));
        r.Add("cluster|nodes", c => c.Reply.WriteBulk(Encoding.UTF8.GetBytes(NodesFile.Describe(node))));
        r.Add("cluster|slots", c => Slots(c, node));
        r.Add("cluster|shards", c => Shards(c, node));
        r.Add("cluster|saveconfig", c => SaveConfig(c, node));
        r.Add("cluster|bumpepoch", c => BumpEpoch(c, node));
        r.Add("cluster|set-config-epoch", c => SetConfigEpoch(c, node));
        r.Add("cluster|count-failure-reports", c => CountFailureReports(c, node));
        r.Add("cluster|setslot", c => SetSlot(c, node));
        r.Add("cluster|forget", c => Forget(c, node));
        r.Add("cluster|failover", c => Failover(c, node));
        r.Add("cluster|reset", c => Reset(c, node));
        r.Add("cluster|links", c => Links(c, node));
        r.Add("cluster|meet", c => Meet(c, node));
        r.Add("cluster|replicate", c => Replicate(c, node));
        r.Add("cluster|replicas", c => Replicas(c, node));
        r.Add("cluster|slaves", c => Replicas(c, node));
        r.Add("asking", c =>
        {
            c.Client.ClusterAsking = true;
            c.Ok();
        });
        r.Add("readonly", c =>
        {
            c.Client.ClusterReadOnly = true;
            c.Ok();
        });
        r.Add("readwrite", c =>
        {
            c.Client.ClusterReadOnly = false;
            c.Ok();
        });
    }

    /// <summary>CLUSTER LINKS: each bus link, to and from other nodes, as a map of six fields.</summary>
    private static void Links(ICommandContext c, ClusterNode node)
    {
        var links = node.Links();
        c.Reply.WriteArrayHeader(links.Count);
        foreach (var link in links)
        {
            c.Reply.WriteMapHeader(6);
            c.Reply.WriteBulk("direction"u8);
            c.Reply.WriteBulk(link.Inbound ? "from"u8 : "to"u8);
            c.Reply.WriteBulk("node"u8);
            c.Reply.WriteBulk(link.NodeId);
            c.Reply.WriteBulk("create-time"u8);
            c.Reply.WriteInteger(link.CreatedMs);
            c.Reply.WriteBulk("events"u8);
            c.Reply.WriteBulk(link.Events);
            c.Reply.WriteBulk("send-buffer-allocated"u8);
            c.Reply.WriteInteger(link.SendBufferAllocated);
            c.Reply.WriteBulk("send-buffer-used"u8);
            c.Reply.WriteInteger(link.SendBufferUsed);
        }
    }

    /// <summary>The node named by the id in argument 2, or false after answering Redis's "Unknown node" error.</summary>
    private static bool TryFindNode(ICommandContext c, ClusterNode node, out ClusterPeer peer)
    {
        var id = Encoding.ASCII.GetString(c.Arg(2));
        if (node.Peers.TryGetValue(id, out peer!))
        {
            return true;
        }
        c.Error("ERR Unknown node " + id);
        return false;
    }

    /// <summary>CLUSTER REPLICATE node-id: this node (empty, without slots) becomes a replica of that master.</summary>
    private static void Replicate(ICommandContext c, ClusterNode node)
    {
        if (!TryFindNode(c, node, out var master))
        {
            return;
        }
        if (master == node.Myself)
        {
            c.Error("ERR Can't replicate myself");
        }
        else if (master.MasterId is not null)
        {
            c.Error("ERR I can only replicate a master, not a replica.");
        }
        else if (node.Myself.MasterId is null && (node.ServesSlots(node.Myself) || node.Host.Keys.Count > 0))
        {
            c.Error("ERR To set a master the node must be empty and without assigned slots.");
        }
        else
        {
            node.Replicate(master);
            c.Ok();
        }
    }

    /// <summary>CLUSTER REPLICAS node-id: the CLUSTER NODES lines of that master's replicas.</summary>
    private static void Replicas(ICommandContext c, ClusterNode node)
    {
        if (!TryFindNode(c, node, out var master))
        {
            return;
        }
        if (master.MasterId is not null)
        {
            c.Error("ERR The specified node is not a master");
            return;
        }
        var lines = NodesFile.Describe(node, p => p.MasterId == master.Id).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        c.Reply.WriteArrayHeader(lines.Length);
        foreach (var line in lines)
        {
            c.Reply.WriteBulk(Encoding.UTF8.GetBytes(line));
        }
    }

    /// <summary>CLUSTER MEET ip port [bus-port]: shake hands with the node there.</summary>
    private static void Meet(ICommandContext c, ClusterNode node)
    {
        if (c.ArgCount is not (4 or 5))
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        var ip = Encoding.ASCII.GetString(c.Arg(2));
        if (!RedisInteger.TryParse(c.Arg(3), out var port) || port is < 0 or > 65535)
        {
            c.Error($"ERR Invalid TCP base port specified: {Encoding.ASCII.GetString(c.Arg(3))}");
            return;
        }
        var busPort = port + 10000;
        if (c.ArgCount == 5 && (!RedisInteger.TryParse(c.Arg(4), out busPort) || busPort is < 0 or > 65535))
        {
            c.Error($"ERR Invalid TCP bus port specified: {Encoding.ASCII.GetString(c.Arg(4))}");
            return;
        }
        if (!System.Net.IPAddress.TryParse(ip, out _))
        {
            c.Error($"ERR Invalid node address specified: {ip}:{port}");
            return;
        }
        node.Meet(ip, (int)port, (int)busPort);
        c.Ok();
    }

    private static void Info(ICommandContext c, ClusterNode node)
    {
        var assigned = node.AssignedSlots;
        var text = new StringBuilder();
        void Field(string name, object value) => text.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");
        Field("cluster_state", node.StateOk ? "ok" : "fail");
        Field("cluster_slots_assigned", assigned);
        Field("cluster_slots_ok", assigned - node.SlotsPFail - node.SlotsFail);
        Field("cluster_slots_pfail", node.SlotsPFail);
        Field("cluster_slots_fail", node.SlotsFail);
        Field("cluster_known_nodes", node.Peers.Count);
        Field("cluster_size", node.Size);
        Field("cluster_current_epoch", node.CurrentEpoch);
        Field("cluster_my_epoch", node.Myself.MasterId is null ? node.Myself.ConfigEpoch : node.Peers.GetValueOrDefault(node.Myself.MasterId)?.ConfigEpoch ?? 0);
        Field("cluster_stats_messages_sent", 0);
        Field("cluster_stats_messages_received", 0);
        Field("total_cluster_links_buffer_limit_exceeded", 0);
        c.Reply.WriteBulk(Encoding.ASCII.GetBytes(text.ToString()));
    }

    /// <summary>CLUSTER SLOTS: per range of slots, its master then its replicas, each [ip, port, id, {metadata}].</summary>
    private static void Slots(ICommandContext c, ClusterNode node)
    {
        var ranges = node.Ranges().Where(r => r.Key.MasterId is null)
            .SelectMany(owner => owner.Value.Select(range => (range.Start, range.End, Master: owner.Key)))
            .OrderBy(r => r.Start).ToList();
        c.Reply.WriteArrayHeader(ranges.Count);
        foreach (var (start, end, master) in ranges)
        {
            var members = node.MembersOf(master);
            c.Reply.WriteArrayHeader(2 + members.Count);
            c.Reply.WriteInteger(start);
            c.Reply.WriteInteger(end);
            foreach (var peer in members)
            {
                c.Reply.WriteArrayHeader(4);
                c.Reply.WriteBulk(Encoding.ASCII.GetBytes(peer.Ip));
                c.Reply.WriteInteger(peer.Port);
                c.Reply.WriteBulk(Encoding.ASCII.GetBytes(peer.Id));
                c.Reply.WriteMapHeader(peer.Hostname.Length > 0 ? 1 : 0);
                if (peer.Hostname.Length > 0)
                {
                    c.Reply.WriteBulk("hostname"u8);
                    c.Reply.WriteBulk(Encoding.ASCII.GetBytes(peer.Hostname));
                }
            }
        }
    }

    /// <summary>CLUSTER SHARDS: per master, its slot ranges and its nodes (the master first) with their health.</summary>
    private static void Shards(ICommandContext c, ClusterNode node)
    {
        var masters = node.Peers.Values.Where(p => p.MasterId is null).ToList();
        var rangesByOwner = node.Ranges();
        var w = c.Reply;
        w.WriteArrayHeader(masters.Count);
        foreach (var master in masters)
        {
            w.WriteMapHeader(2);
            w.WriteBulk("slots"u8);
            var ranges = rangesByOwner.GetValueOrDefault(master) ?? [];
            w.WriteArrayHeader(ranges.Count * 2);
            foreach (var (start, end) in ranges)
            {
                w.WriteInteger(start);
                w.WriteInteger(end);
            }
            w.WriteBulk("nodes"u8);
            var members = node.MembersOf(master);
            w.WriteArrayHeader(members.Count);
            foreach (var peer in members)
            {
                w.WriteMapHeader(peer.Hostname.Length > 0 ? 8 : 7);
                w.WriteBulk("id"u8);
                w.WriteBulk(Encoding.ASCII.GetBytes(peer.Id));
                w.WriteBulk("port"u8);
                w.WriteInteger(peer.Port);
                w.WriteBulk("ip"u8);
                w.WriteBulk(Encoding.ASCII.GetBytes(peer.Ip));
                w.WriteBulk("endpoint"u8);
                w.WriteBulk(Encoding.ASCII.GetBytes(peer.Ip));
                if (peer.Hostname.Length > 0)
                {
                    w.WriteBulk("hostname"u8);
                    w.WriteBulk(Encoding.ASCII.GetBytes(peer.Hostname));
                }
                w.WriteBulk("role"u8);
                w.WriteBulk(peer.MasterId is null ? "master"u8 : "replica"u8);
                w.WriteBulk("replication-offset"u8);
                w.WriteInteger(peer.IsMyself ? node.Host.Replication.Offset : 0);
                w.WriteBulk("health"u8);
                w.WriteBulk(peer.Connected || peer.IsMyself ? "online"u8 : "failed"u8);
            }
        }
    }

    private static void SaveConfig(ICommandContext c, ClusterNode node)
    {
        if (node.SaveNow() is { } error)
        {
            c.Error("ERR error saving the cluster node config: " + error);
            return;
        }
        c.Ok();
    }

    /// <summary>CLUSTER BUMPEPOCH: a new config epoch without agreement, unless this node's is already the highest.</summary>
    private static void BumpEpoch(ICommandContext c, ClusterNode node)
    {
        var bumped = node.BumpEpochWithoutConsensus();
        c.Reply.WriteSimpleString(Encoding.ASCII.GetBytes((bumped ? "BUMPED " : "STILL ") + node.Myself.ConfigEpoch.ToString(CultureInfo.InvariantCulture)));
    }

    private static void SetConfigEpoch(ICommandContext c, ClusterNode node)
    {
        if (!c.TryGetLong(2, out var epoch))
        {
            return;
        }
        if (epoch < 0)
        {
            c.Error($"ERR Invalid config epoch specified: {epoch}");
        }
        else if (node.Peers.Count > 1)
        {
            c.Error("ERR The user can assign a config epoch only when the node does not know any other node.");
        }
        else if (node.Myself.ConfigEpoch != 0)
        {
            c.Error("ERR Node config epoch is already non-zero");
        }
        else
        {
            node.Myself.ConfigEpoch = epoch;
            node.CurrentEpoch = Math.Max(node.CurrentEpoch, epoch);
            node.Changed(durable: true);
            c.Ok();
        }
    }

    private static void CountFailureReports(ICommandContext c, ClusterNode node)
    {
        if (TryFindNode(c, node, out var peer))
        {
            c.Reply.WriteInteger(node.FailureReportsOn(peer));
        }
    }

    /// <summary>CLUSTER FORGET node-id: removes another node (not this one's master) from this node's view.</summary>
    private static void Forget(ICommandContext c, ClusterNode node)
    {
        if (!TryFindNode(c, node, out var peer))
        {
            return;
        }
        if (peer == node.Myself)
        {
            c.Error("ERR I tried hard but I can't forget myself...");
        }
        else if (node.Myself.MasterId == peer.Id)
        {
            c.Error("ERR Can't forget my master!");
        }
        else
        {
            node.Forget(peer);
            c.Ok();
        }
    }

    /// <summary>Redis's answer to a subcommand given more arguments than it takes.</summary>
    private static void UnknownSubcommand(ICommandContext c)
        => c.Error($"ERR unknown subcommand or wrong number of arguments for '{Encoding.UTF8.GetString(c.Arg(1))}'. Try CLUSTER HELP.");

    /// <summary>CLUSTER RESET [HARD|SOFT] (SOFT by default).</summary>
    private static void Reset(ICommandContext c, ClusterNode node)
    {
        if (c.ArgCount > 3)
        {
            UnknownSubcommand(c);
            return;
        }
        var hard = c.ArgCount == 3 && c.ArgIs(2, "hard"u8);
        if (c.ArgCount == 3 && !hard && !c.ArgIs(2, "soft"u8))
        {
            c.SyntaxError();
            return;
        }
        if (node.Myself.MasterId is null && node.Host.Keys.Count != 0)
        {
            c.Error("ERR CLUSTER RESET can't be called with master nodes containing keys");
            return;
        }
        node.Reset(hard);
        c.Ok();
    }

    /// <summary>CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica.</summary>
    private static void Failover(ICommandContext c, ClusterNode node)
    {
        var (force, takeover) = (false, false);
        if (c.ArgCount > 3)
        {
            UnknownSubcommand(c);
            return;
        }
        if (c.ArgCount == 3 && c.ArgIs(2, "force"u8))
        {
            force = true;
        }
        else if (c.ArgCount == 3 && c.ArgIs(2, "takeover"u8))
        {
            takeover = true;
        }
        else if (c.ArgCount > 2)
        {
            c.SyntaxError();
            return;
        }
        if (node.StartManualFailover(force, takeover) is { } error)
        {
            c.Error(error);
            return;
        }
        c.Ok();
    }
}
