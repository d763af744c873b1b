using System.Security.Cryptography;

namespace Tessera.Cluster;

/// <summary>
/// A node as this node knows it (Redis's clusterNode): its 40-character id, address, role and the epoch of its
/// slot claims. This node itself is one too (<see cref="IsMyself"/>).
/// </summary>
internal sealed class ClusterPeer(string id)
{
    /// <summary>The node's id; a node met by address has a random one until it answers with its own.</summary>
    public string Id { get; set; } = id;

    /// <summary>Met by address (CLUSTER MEET or gossip) and not answered yet (Redis's handshake flag).</summary>
    public bool Handshake { get; set; }

    /// <summary>When the handshake began (Unix ms); one unanswered for the node timeout is dropped.</summary>
    public long HandshakeStartMs { get; init; }

    /// <summary>Its link sends MEET rather than PING: the other node does not know this one yet.</summary>
    public bool Meet { get; set; }

    /// <summary>The announced address; empty until this node learns its own from a peer, as Redis.</summary>
    public string Ip { get; set; } = "";

    public int Port { get; set; }

    /// <summary>Where to connect to it: its address, or loopback while it has none yet (a node not told its own).</summary>
    public string ConnectIp => Ip.Length == 0 ? "127.0.0.1" : Ip;

    /// <summary>The cluster bus port (port + 10000 unless <c>cluster-port</c> says otherwise).</summary>
    public int BusPort { get; set; }

    public string Hostname { get; set; } = "";

    public bool IsMyself { get; init; }

    /// <summary>The master's id when this node is a replica, else null.</summary>
    public string? MasterId { get; set; }

    public long ConfigEpoch { get; set; }

    public long PingSentMs { get; set; }

    public long PongReceivedMs { get; set; }

    public bool Connected { get; set; } = true;

    /// <summary>This node has had no answer from it within the node timeout (Redis's PFAIL, "fail?").</summary>
    public bool PFail { get; set; }

    /// <summary>A majority of masters agreed it failed (Redis's FAIL).</summary>
    public bool Fail { get; set; }

    /// <summary>When it was marked FAIL (Unix ms).</summary>
    public long FailTimeMs { get; set; }

    /// <summary>Masters that reported it PFAIL or FAIL in their gossip, with when they last did (Unix ms).</summary>
    public Dictionary<string, long> FailureReports { get; } = [];

    /// <summary>When this node last voted for a replica of it (Unix ms): one vote per master per two node timeouts.</summary>
    public long VotedTimeMs { get; set; }

    /// <summary>A master that had replicas at some point: losing them all makes it orphaned (replica migration).</summary>
    public bool HadReplicas { get; set; }

    /// <summary>The replication offset it last announced.</summary>
    public long ReplicationOffset { get; set; }

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>Redis's flags field, in its order: myself, master or slave, fail?, fail, handshake.</summary>
    public string Flags => (IsMyself ? "myself," : "") + (MasterId is null ? "master" : "slave") + (PFail ? ",fail?" : "")
        + (Fail ? ",fail" : "") + (Handshake ? ",handshake" : "");

    /// <summary>Down as far as this node knows (PFAIL or FAIL).</summary>
    public bool Failing => PFail || Fail;

    /// <summary>ip:port@cport[,hostname] as CLUSTER NODES and nodes.conf write it.</summary>
    public string Address => $"{Ip}:{Port}@{BusPort}" + (Hostname.Length > 0 ? "," + Hostname : "");
}
