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

    /// <summary>Its link sends MEET rather than PING: the other node does not know this one yet.</summary>
    public bool Meet { get; set; }

    /// <summary>The announced address; empty until this node learns its own from a peer, as Redis.</summary>
    public string Ip { get; set; } = "";

    public int Port { get; set; }

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

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>Redis's flags field: myself, master or slave (and later fail?, fail, handshake, noaddr ...).</summary>
    public string Flags => (IsMyself ? "myself," : "") + (MasterId is null ? "master" : "slave") + (Handshake ? ",handshake" : "");

    /// <summary>ip:port@cport[,hostname] as CLUSTER NODES and nodes.conf write it.</summary>
    public string Address => $"{Ip}:{Port}@{BusPort}" + (Hostname.Length > 0 ? "," + Hostname : "");
}
