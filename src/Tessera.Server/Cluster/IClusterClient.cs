using Tessera.Core.Commands;
using Tessera.Resp;

namespace Tessera.Server.Cluster;

/// <summary>A client connection as cluster routing sees it: its ASKING and READONLY state and its transaction.</summary>
public interface IClusterClient
{
    /// <summary>ASKING: the next command may be served from a slot this node imports.</summary>
    bool ClusterAsking { get; set; }

    /// <summary>READONLY: reads of this replica's master's slots are served here.</summary>
    bool ClusterReadOnly { get; set; }

    /// <summary>Between MULTI and EXEC.</summary>
    bool InTransaction { get; }

    int QueuedCount { get; }

    /// <summary>The queued command at <paramref name="index"/>; its arguments are set into <paramref name="args"/>.</summary>
    CommandInfo Queued(int index, Request args);
}
