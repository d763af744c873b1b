using Tessera.Client;
using Tessera.Core.Hashing;

namespace Tessera.Cli.Operations;

/// <summary>A node as CLUSTER NODES describes it: id, address, role, slots and (for the node asked) open slots.</summary>
internal sealed record ClusterNodeInfo(string Id, string Endpoint, string Flags, string? MasterId, List<int> Slots, List<string> OpenSlots)
{
    public bool IsMaster => Flags.Split(',').Contains("master");

    public bool Failing => Flags.Split(',').Any(f => f is "fail" or "fail?");
}

/// <summary>
/// A cluster as the operations tools see it: every node's CLUSTER NODES, read through one connection per node
/// (found from a seed node), as <c>redis-cli --cluster</c> loads it.
/// </summary>
internal sealed class ClusterTopology : IDisposable
{
    private readonly Dictionary<string, RedisConnection> _connections = [];

    private ClusterTopology(List<ClusterNodeInfo> nodes) => Nodes = nodes;

    /// <summary>The nodes as the seed knows them (open slots as each node itself reports them).</summary>
    public List<ClusterNodeInfo> Nodes { get; }

    /// <summary>Each reachable node's own view: its CLUSTER NODES, parsed.</summary>
    public Dictionary<string, List<ClusterNodeInfo>> Views { get; } = [];

    public IEnumerable<ClusterNodeInfo> Masters => Nodes.Where(n => n.IsMaster);

    /// <summary>Loads the cluster that the node at <paramref name="seed"/> belongs to.</summary>
    public static ClusterTopology Load(string seed, TimeSpan timeout)
    {
        var (host, port) = RedisConnection.ParseEndpoint(seed);
        var first = RedisConnection.Connect(host, port, timeout);
        var nodes = Parse(first.Execute("CLUSTER", "NODES").Text!);
        var topology = new ClusterTopology(nodes);
        var myself = nodes.Single(n => n.Flags.Contains("myself", StringComparison.Ordinal));
        topology._connections[myself.Endpoint] = first;
        foreach (var node in nodes)
        {
            try
            {
                var view = Parse(topology.Connection(node, timeout).Execute("CLUSTER", "NODES").Text!);
                topology.Views[node.Endpoint] = view;
                // A node's open slots appear only in its own line of its own view.
                node.OpenSlots.AddRange(view.Single(n => n.Flags.Contains("myself", StringComparison.Ordinal)).OpenSlots);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or AggregateException)
            {
                // Unreachable: left out of Views, which check reports.
            }
        }
        return topology;
    }

    /// <summary>The connection to <paramref name="node"/>, opened on first use.</summary>
    public RedisConnection Connection(ClusterNodeInfo node, TimeSpan timeout)
    {
        if (!_connections.TryGetValue(node.Endpoint, out var connection))
        {
            var (host, port) = RedisConnection.ParseEndpoint(node.Endpoint);
            connection = RedisConnection.Connect(host, port, timeout);
            _connections[node.Endpoint] = connection;
        }
        return connection;
    }

    /// <summary>The master serving slots that has the fewest replicas (the first such), other than <paramref name="excluded"/>.</summary>
    public ClusterNodeInfo MasterWithFewestReplicas(ClusterNodeInfo? excluded = null)
        => Masters.Where(m => m.Slots.Count > 0 && m.Id != excluded?.Id).OrderBy(m => Nodes.Count(n => n.MasterId == m.Id)).First();

    /// <summary>The node whose id starts with <paramref name="id"/> (a prefix, as the tools accept), or an error.</summary>
    public ClusterNodeInfo Find(string id)
    {
        var matches = Nodes.Where(n => n.Id.StartsWith(id, StringComparison.Ordinal) || n.Endpoint == id).ToList();
        return matches.Count == 1 ? matches[0] : throw new InvalidOperationException($"no single node matches '{id}'");
    }

    /// <summary>Parses CLUSTER NODES text.</summary>
    public static List<ClusterNodeInfo> Parse(string text)
    {
        var nodes = new List<ClusterNodeInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            var slots = new List<int>();
            var open = new List<string>();
            foreach (var range in fields.Skip(8))
            {
                if (range.StartsWith('['))
                {
                    open.Add(range);
                    continue;
                }
                var (start, end) = HashSlot.ParseRange(range);
                slots.AddRange(Enumerable.Range(start, end - start + 1));
            }
            var address = fields[1].Split(',')[0].Split('@')[0];
            nodes.Add(new ClusterNodeInfo(fields[0], address, fields[2], fields[3] == "-" ? null : fields[3], slots, open));
        }
        return nodes;
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Dispose();
        }
    }
}
