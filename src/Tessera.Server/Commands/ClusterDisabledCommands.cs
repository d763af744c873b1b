using Tessera.Core.Commands;

namespace Tessera.Server.Commands;

/// <summary>
/// CLUSTER, ASKING, READONLY and READWRITE on a node without <c>cluster-enabled</c>: each answers as redis-server
/// does then. In cluster mode Tessera.Cluster registers the real handlers over these.
/// </summary>
internal static class ClusterDisabledCommands
{
    private const string Disabled = "ERR This instance has cluster support disabled";

    public static void Register(CommandRegistry r)
    {
        foreach (var sub in CommandTable.Redis.Find("cluster")!.Subcommands.Values)
        {
            r.Add("cluster|" + sub.Name, c => c.Error(Disabled));
        }
        r.Add("asking", c => c.Error(Disabled));
        r.Add("readonly", c => c.Error(Disabled));
        r.Add("readwrite", c => c.Error(Disabled));
    }
}
