using System.Globalization;

namespace Tessera.TestKit;

/// <summary>
/// A cluster of tessera processes on loopback ports, formed by <c>redis-cli --cluster create</c> (masters first, then
/// their replicas), each in a directory of its own; every node is a <see cref="TesseraProcess"/>, so a test can kill,
/// pause and restart it. Disposing stops them all and removes the directories.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("tessera-cluster-").FullName;
    private readonly List<TesseraProcess> _nodes = [];
    private readonly List<TesseraProcess> _spares = [];

    public LocalCluster(int masters, int replicasPerMaster, long nodeTimeoutMs, params string[] options)
    {
        NodeTimeoutMs = nodeTimeoutMs;
        try
        {
            for (var i = 0; i < masters * (1 + replicasPerMaster); i++)
            {
                var directory = Path.Combine(_root, i.ToString(CultureInfo.InvariantCulture));
                System.IO.Directory.CreateDirectory(directory);
                _nodes.Add(new TesseraProcess(directory, ["--cluster-enabled", "yes", "--cluster-node-timeout",
                    nodeTimeoutMs.ToString(CultureInfo.InvariantCulture), "--repl-diskless-sync-delay", "0", .. options]));
            }
            foreach (var node in _nodes)
            {
                node.WaitUntilReady();
            }
            var (code, output) = RedisCli.Run(["--cluster", "create", .. _nodes.Select(Endpoint), "--cluster-replicas",
                replicasPerMaster.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
            if (code != 0 || !output.Contains("[OK] All 16384 slots covered.", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("redis-cli --cluster create failed: " + output);
            }
            foreach (var node in _nodes)
            {
                using var client = node.Connect();
                if (!client.WaitForText("CLUSTER", "INFO", "cluster_state:ok"))
                {
                    throw new InvalidOperationException($"node {node.Port} did not reach cluster_state:ok");
                }
            }
            // cluster_state is ok once the masters serve every slot, which can be before every master has heard of
            // its replicas; tests that ask a master for its replicas need them known.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!Masters().All(master => ReplicaCount(master) == replicasPerMaster))
            {
                if (clock.ElapsedMilliseconds > 30_000)
                {
                    throw new InvalidOperationException("the masters did not learn their replicas within 30 s");
                }
                Thread.Sleep(50);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public long NodeTimeoutMs { get; }

    private static int ReplicaCount(TesseraProcess master)
    {
        using var connection = master.Connect();
        return connection.Call("CLUSTER", "REPLICAS", connection.Call("CLUSTER", "MYID").Text!).Items.Count;
    }

    /// <summary>
    /// Starts one more cluster-enabled node, empty and outside the cluster (for add-node), in a directory of this
    /// cluster's; it is stopped with the cluster.
    /// </summary>
    public TesseraProcess StartSpareNode()
    {
        var directory = Path.Combine(_root, "spare-" + _spares.Count.ToString(CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(directory);
        var node = new TesseraProcess(directory, ["--cluster-enabled", "yes", "--cluster-node-timeout", NodeTimeoutMs.ToString(CultureInfo.InvariantCulture)]);
        _spares.Add(node);
        node.WaitUntilReady();
        return node;
    }

    public IReadOnlyList<TesseraProcess> Nodes => _nodes;

    public static string Endpoint(TesseraProcess node) => "127.0.0.1:" + node.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The node's cluster id (CLUSTER MYID).</summary>
    public static string Id(TesseraProcess node)
    {
        using var client = node.Connect();
        return client.Call("CLUSTER", "MYID").Text!;
    }

    /// <summary>The node listening on <paramref name="port"/>.</summary>
    public TesseraProcess NodeAt(int port) => _nodes.Single(n => n.Port == port);

    /// <summary>The nodes that are masters now, by ROLE (nodes that do not answer are left out).</summary>
    public List<TesseraProcess> Masters() => [.. _nodes.Where(n => Role(n) == "master")];

    /// <summary>The node's ROLE, or null when it does not answer.</summary>
    public static string? Role(TesseraProcess node)
    {
        try
        {
            using var client = new RespClient(node.Port, timeoutMs: 1000);
            return client.Call("ROLE").Items[0].Text;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>"id slots..." per node, sorted: who serves what as <paramref name="node"/> sees it.</summary>
    public static string SlotView(TesseraProcess node)
    {
        using var client = node.Connect();
        return string.Join("|", client.Call("CLUSTER", "NODES").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')).Where(f => f.Length > 8).Select(f => f[0] + " " + string.Join(' ', f.Skip(8))).Order());
    }

    /// <summary>True once every node in <paramref name="nodes"/> sees the same slot owners, within <paramref name="timeoutMs"/>.</summary>
    public static bool WaitForAgreement(IReadOnlyList<TesseraProcess> nodes, int timeoutMs = 30_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            var views = nodes.Select(SlotView).Distinct().Count();
            if (views == 1)
            {
                return true;
            }
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }
            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes.Concat(_spares))
        {
            node.Dispose();
        }
        try
        {
            System.IO.Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A node's last write raced the removal; the temporary folder is left behind.
        }
    }
}
