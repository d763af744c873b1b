using Microsoft.Extensions.Logging;
using Tessera.Server;

namespace Tessera.Cluster;

/// <summary>
/// Builds a node with every part wired in: a standalone node, or with <c>cluster-enabled yes</c> a cluster node.
/// The executable and the test kit start nodes through it.
/// </summary>
public static class TesseraHost
{
    public static TesseraServer Create(ServerOptions options, ILoggerFactory? loggerFactory = null)
        => new(options, loggerFactory, server => new ClusterNode(server));
}
