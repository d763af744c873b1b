using System.Globalization;
using System.Text;
using Tessera.Core.Hashing;

namespace Tessera.TestKit;

/// <summary>
/// A cluster-aware test client, as redis-cli -c and the client libraries behave: it sends a command to the node it
/// believes serves the key's slot, follows -MOVED (remembering the new owner) and -ASK (ASKING first, remembering
/// nothing), and retries -TRYAGAIN and -CLUSTERDOWN a bounded number of times. Counts the redirections it saw.
/// </summary>
public sealed class ClusterClient(IReadOnlyList<int> ports) : IDisposable
{
    private const int MaxAttempts = 100;

    private readonly Dictionary<int, RespClient> _connections = [];
    private readonly Dictionary<int, int> _owners = [];

    /// <summary>The node asked about slots with no known owner; moves on when it stops answering.</summary>
    private int _seed;

    public int Moved { get; private set; }

    public int Asked { get; private set; }

    public int Retried { get; private set; }

    /// <summary>Runs a command on the node serving <paramref name="key"/>; the final reply, which may be an error.</summary>
    public RespValue Call(string key, params string[] command)
    {
        var slot = HashSlot.Of(Encoding.UTF8.GetBytes(key));
        var port = _owners.GetValueOrDefault(slot, ports[_seed]);
        var asking = false;
        for (var attempt = 0; ; attempt++)
        {
            RespValue reply;
            try
            {
                var connection = ConnectionTo(port);
                if (asking)
                {
                    connection.Send("ASKING");
                    connection.Send(command);
                    connection.Read();
                    reply = connection.Read();
                }
                else
                {
                    reply = connection.Call(command);
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException && attempt < MaxAttempts)
            {
                // The node went away (killed in a failover test): ask another one next time.
                Drop(port);
                _seed = (_seed + 1) % ports.Count;
                port = ports[_seed];
                Thread.Sleep(100);
                continue;
            }
            asking = false;
            var text = reply.IsError ? reply.Text! : "";
            if (attempt >= MaxAttempts)
            {
                return reply;
            }
            if (text.StartsWith("MOVED ", StringComparison.Ordinal))
            {
                Moved++;
                port = PortOf(text);
                _owners[slot] = port;
            }
            else if (text.StartsWith("ASK ", StringComparison.Ordinal))
            {
                Asked++;
                port = PortOf(text);
                asking = true;
            }
            else if (text.StartsWith("TRYAGAIN", StringComparison.Ordinal) || text.StartsWith("CLUSTERDOWN", StringComparison.Ordinal))
            {
                Retried++;
                Thread.Sleep(50);
            }
            else
            {
                return reply;
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> on every connection this client opened (WAIT after writes).</summary>
    public List<RespValue> CallEachConnection(params string[] command) => [.. _connections.Values.Select(c => c.Call(command))];

    private static int PortOf(string redirect) => int.Parse(redirect.Split(' ')[2].Split(':')[1], CultureInfo.InvariantCulture);

    private RespClient ConnectionTo(int port)
    {
        if (!_connections.TryGetValue(port, out var connection))
        {
            connection = new RespClient(port, timeoutMs: 5000);
            _connections[port] = connection;
        }
        return connection;
    }

    private void Drop(int port)
    {
        if (_connections.Remove(port, out var connection))
        {
            connection.Dispose();
        }
        foreach (var slot in _owners.Where(o => o.Value == port).Select(o => o.Key).ToList())
        {
            _owners.Remove(slot);
        }
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Dispose();
        }
    }
}
