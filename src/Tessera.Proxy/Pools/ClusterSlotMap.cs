using System.Globalization;
using Tessera.Client;
using Tessera.Core.Hashing;
using Tessera.Core.Threading;

namespace Tessera.Proxy.Pools;

/// <summary>
/// Where each hash slot of a fronted Redis Cluster is served: the slot-to-master table learnt from CLUSTER SLOTS,
/// corrected slot by slot from MOVED redirections and re-read in the background after one, so cluster-unaware
/// clients reach the right master. Masters become backends of the pool as they are discovered.
/// </summary>
public sealed class ClusterSlotMap
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(1);

    private readonly ServerPool _pool;
    private volatile int[] _owners = new int[HashSlot.Count];
    private volatile int[] _masters = [];
    private int _refreshing;

    public ClusterSlotMap(ServerPool pool)
    {
        _pool = pool;
        if (!Refresh())
        {
            // No seed answered yet: everything goes to the first seed, whose MOVED replies will teach the table.
            _masters = [0];
            ProxyLog.Warning($"pool '{pool.Name}': no cluster seed answered CLUSTER SLOTS; routing to the first seed until one does");
        }
    }

    /// <summary>The backends serving slots now.</summary>
    public IReadOnlyList<int> Masters => _masters;

    /// <summary>The backend serving <paramref name="key"/>'s slot, or -1 when the slot has no master.</summary>
    public int Locate(ReadOnlySpan<byte> key) => _owners[HashSlot.Of(key)];

    /// <summary>A MOVED reply said <paramref name="slot"/> is served at host:port: route it there from now on.</summary>
    public int Learn(int slot, string host, int port)
    {
        var backend = _pool.BackendAt(host, port);
        _owners[slot] = backend;
        if (Array.IndexOf(_masters, backend) < 0)
        {
            _masters = [.. _masters, backend];
        }
        return backend;
    }

    /// <summary>Re-reads the whole table in the background (once at a time), after a MOVED or a lost master.</summary>
    public void RequestRefresh()
    {
        if (Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            GuardedThread.Queue(() =>
            {
                try
                {
                    Refresh();
                }
                finally
                {
                    Volatile.Write(ref _refreshing, 0);
                }
            }, e => ProxyLog.Warning($"cluster slot table refresh failed: {e.Message}"));
        }
    }

    /// <summary>Asks the known nodes, seeds first, for CLUSTER SLOTS until one answers; false when none did.</summary>
    public bool Refresh()
    {
        foreach (var backend in _pool.Backends.ToList())
        {
            try
            {
                using var connection = RedisConnection.Connect(backend.Config.Host, backend.Config.Port, QueryTimeout);
                var reply = connection.Call("CLUSTER", "SLOTS");
                if (reply.IsError)
                {
                    continue;
                }
                Apply(reply);
                return true;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or RedisErrorException)
            {
                // Try the next node.
            }
        }
        return false;
    }

    private void Apply(RedisReply slots)
    {
        var owners = new int[HashSlot.Count];
        Array.Fill(owners, -1);
        var masters = new List<int>();
        foreach (var range in slots.Items)
        {
            var master = range.Items[2];
            var host = master.Items[0].Text!;
            var port = (int)master.Items[1].Integer;
            var backend = _pool.BackendAt(host.Length == 0 ? "127.0.0.1" : host, port);
            if (!masters.Contains(backend))
            {
                masters.Add(backend);
            }
            for (var slot = (int)range.Items[0].Integer; slot <= (int)range.Items[1].Integer; slot++)
            {
                owners[slot] = backend;
            }
        }
        _owners = owners;
        _masters = [.. masters];
    }

    /// <summary>Parses "-MOVED 3999 127.0.0.1:6381" or "-ASK ..." into its slot and address; false otherwise.</summary>
    public static bool TryParseRedirect(ReadOnlySpan<byte> reply, out bool ask, out int slot, out string host, out int port)
    {
        ask = reply.StartsWith("-ASK "u8);
        slot = 0;
        host = "";
        port = 0;
        if (!ask && !reply.StartsWith("-MOVED "u8))
        {
            return false;
        }
        var parts = System.Text.Encoding.ASCII.GetString(reply[1..^2]).Split(' ');
        var colon = parts.Length == 3 ? parts[2].LastIndexOf(':') : -1;
        if (colon < 0 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out slot)
            || !int.TryParse(parts[2].AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            return false;
        }
        host = parts[2][..colon];
        return true;
    }
}
