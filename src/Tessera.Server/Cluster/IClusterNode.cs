using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Commands;

namespace Tessera.Server.Cluster;

/// <summary>
/// Cluster mode (<c>cluster-enabled yes</c>) as the server sees it; Tessera.Cluster implements it. The server calls
/// it at the points Redis's server.c calls cluster.c: registering the CLUSTER family, at start-up, from the cron, and
/// in the command pipeline to redirect a command whose keys this node does not serve.
/// </summary>
public interface IClusterNode
{
    /// <summary>Nodes in this node's view, itself included (INFO cluster_connections counts two sockets per other node, as Redis).</summary>
    int KnownNodes { get; }

    /// <summary>Replaces the standalone handlers of CLUSTER, ASKING, READONLY and READWRITE.</summary>
    void RegisterCommands(ICommandRegistration registry);

    /// <summary>After the data is loaded: loads or creates the node's identity and view (nodes.conf).</summary>
    void Start();

    /// <summary>Ten times a second under the execution lock.</summary>
    void Cron();

    /// <summary>At shutdown (under the execution lock): closes the cluster bus and writes what is left to write.</summary>
    void Stop();

    /// <summary>
    /// PUBLISH (to every node of the cluster) or SPUBLISH (to the other nodes of this node's shard) after the
    /// local subscribers got the message: the cluster bus carries it, as in Redis.
    /// </summary>
    void Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool sharded);

    /// <summary>
    /// The error to answer instead of running <paramref name="command"/> (MOVED, ASK, CROSSSLOT, TRYAGAIN,
    /// CLUSTERDOWN), or null when this node serves it. <paramref name="inExec"/>: the command is EXEC, whose queued
    /// commands are checked together.
    /// </summary>
    string? Redirect(IClusterClient client, CommandInfo command, Request args, bool inExec);
}
