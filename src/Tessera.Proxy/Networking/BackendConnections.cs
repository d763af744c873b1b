using System.Diagnostics;
using System.Net.Sockets;
using Tessera.Core.Networking;
using Tessera.Proxy.Pools;
using Tessera.Proxy.Routing;

namespace Tessera.Proxy.Networking;

/// <summary>
/// One proxy thread's connections to the backends of every pool: server_connections per server, used in turn and
/// connected on first use (or at start with preconnect); requests written in a batch of events are sent together
/// at its end; after a reload the old connections finish the requests they carry, then close; a request waiting
/// longer than the pool's timeout fails its connection.
/// </summary>
internal sealed class BackendConnections(IBackendLoop loop)
{
    private readonly List<BackendConnection> _dirty = [];
    private readonly List<BackendConnection> _retiring = [];
    private BackendConnection?[][][] _connections = [];
    private int[][] _nextConnection = [];

    /// <summary>Every live connection (the current pools' and the retiring ones).</summary>
    private IEnumerable<BackendConnection> All => _connections.SelectMany(table => table).SelectMany(slots => slots).Concat(_retiring).OfType<BackendConnection>();

    /// <summary>Connects to <paramref name="pools"/> from now on; the previous pools' connections retire.</summary>
    public void UsePools(IReadOnlyList<ServerPool> pools)
    {
        foreach (var connection in _connections.SelectMany(table => table).SelectMany(slots => slots))
        {
            if (connection is { Closed: false })
            {
                Retire(connection);
            }
        }
        _connections = [.. pools.Select(pool => pool.Backends.Select(_ => new BackendConnection?[pool.Config.ServerConnections]).ToArray())];
        _nextConnection = [.. pools.Select(p => new int[p.Backends.Count])];
        foreach (var pool in pools.Where(p => p.Config.Preconnect))
        {
            foreach (var backend in pool.Backends)
            {
                ConnectionTo(pool, backend.Index);
            }
        }
    }

    /// <summary>
    /// The connection to use for server <paramref name="server"/> of <paramref name="pool"/>: the next of its
    /// server_connections in turn, connecting it first when needed; null when it cannot be reached.
    /// </summary>
    public BackendConnection? ConnectionTo(ServerPool pool, int server)
    {
        if (server >= _connections[pool.Index].Length)
        {
            // A cluster pool discovered a master.
            var grown = _connections[pool.Index];
            var start = grown.Length;
            Array.Resize(ref grown, pool.Backends.Count);
            for (var i = start; i < grown.Length; i++)
            {
                grown[i] = new BackendConnection?[pool.Config.ServerConnections];
            }
            _connections[pool.Index] = grown;
            Array.Resize(ref _nextConnection[pool.Index], grown.Length);
        }
        var slots = _connections[pool.Index][server];
        var k = _nextConnection[pool.Index][server];
        _nextConnection[pool.Index][server] = (k + 1) % slots.Length;
        var connection = slots[k];
        if (connection is { Closed: false })
        {
            return connection;
        }
        connection = Connect(pool, pool.Backends[server]);
        slots[k] = connection;
        return connection;
    }

    /// <summary>Records that the request just written to <paramref name="connection"/> is fragment <paramref name="fragment"/> of <paramref name="reply"/>; sent at the end of the batch.</summary>
    public void Send(BackendConnection connection, PendingReply reply, int fragment)
    {
        connection.Expect(reply, fragment, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref connection.Backend.Stats.Requests);
        MarkDirty(connection);
    }

    /// <summary>Queues <paramref name="connection"/> to be flushed at the end of this batch of events.</summary>
    public void MarkDirty(BackendConnection connection)
    {
        if (!connection.Dirty)
        {
            connection.Dirty = true;
            _dirty.Add(connection);
        }
    }

    /// <summary>Sends what the batch wrote to the backends.</summary>
    public void FlushDirty()
    {
        for (var i = 0; i < _dirty.Count; i++)
        {
            var connection = _dirty[i];
            connection.Dirty = false;
            if (!connection.Closed && connection.Connected)
            {
                Flush(connection);
            }
        }
        _dirty.Clear();
    }

    /// <summary>A connection of a replaced configuration closes once its last request is answered.</summary>
    public void CloseIfRetired(BackendConnection connection)
    {
        if (connection.Retiring && connection.InflightCount == 0)
        {
            Close(connection, "the configuration was reloaded", countFailure: false);
        }
    }

    /// <summary>Fails the connections whose oldest request waited longer than the pool's timeout.</summary>
    public void ExpireTimeouts()
    {
        var now = Stopwatch.GetTimestamp();
        _retiring.RemoveAll(connection => connection.Closed);
        foreach (var connection in All.ToList())
        {
            if (connection.Closed || connection.InflightCount == 0)
            {
                continue;
            }
            var timeout = connection.Pool.Config.TimeoutMs;
            if (timeout > 0 && Stopwatch.GetElapsedTime(connection.Oldest.SentAt, now).TotalMilliseconds > timeout)
            {
                Interlocked.Increment(ref connection.Backend.Stats.ServerTimedout);
                Close(connection, "Connection timed out", countFailure: true);
            }
        }
    }

    /// <summary>Closes a connection; every request still waiting on it fails with <paramref name="reason"/>.</summary>
    public void Close(BackendConnection connection, string reason, bool countFailure)
    {
        if (connection.Closed)
        {
            return;
        }
        connection.Closed = true;
        loop.Forget(connection);
        if (connection.Connected)
        {
            Interlocked.Decrement(ref connection.Backend.Stats.ServerConnections);
        }
        else
        {
            Interlocked.Increment(ref connection.Backend.Stats.ServerErr);
        }
        connection.Socket.Dispose();
        connection.Output.Clear();
        while (connection.InflightCount > 0)
        {
            var entry = connection.Dequeue();
            if (entry.Reply is { } reply)
            {
                loop.FailFragment(reply, entry.Fragment, reason);
            }
        }
        if (countFailure)
        {
            connection.Pool.RecordFailure(connection.Backend);
        }
    }

    private void Retire(BackendConnection connection)
    {
        if (connection.InflightCount == 0)
        {
            Close(connection, "the configuration was reloaded", countFailure: false);
            return;
        }
        connection.Retiring = true;
        _retiring.Add(connection);
    }

    private BackendConnection? Connect(ServerPool pool, Backend backend)
    {
        Socket socket;
        try
        {
            var endPoint = backend.EndPoint;
            socket = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp)
            {
                Blocking = false,
            };
            if (endPoint.AddressFamily != AddressFamily.Unix)
            {
                socket.NoDelay = true;
                if (pool.Config.TcpKeepalive)
                {
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                }
            }
            try
            {
                socket.Connect(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // Completes when the socket turns writable.
            }
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            Interlocked.Increment(ref backend.Stats.ServerErr);
            pool.RecordFailure(backend);
            return null;
        }
        var connection = new BackendConnection(pool, backend, socket)
        {
            Interest = Native.EpollIn | Native.EpollOut | Native.EpollRdHup,
        };
        loop.Register(connection);
        RequestRouter.WritePreamble(connection);
        return connection;
    }

    private void Flush(BackendConnection connection)
    {
        var sent = NonBlockingSend.Pending(connection.Fd, connection.Output);
        if (sent < 0)
        {
            Close(connection, "Connection reset by the server", countFailure: true);
            return;
        }
        Interlocked.Add(ref connection.Backend.Stats.RequestBytes, sent);
        connection.Interest = loop.Watch(connection.Fd, connection.Interest,
            Native.EpollIn | Native.EpollRdHup | (connection.Output.IsEmpty ? 0 : Native.EpollOut));
    }
}

/// <summary>What <see cref="BackendConnections"/> needs of its loop: watching a connection's socket, failing a request.</summary>
internal interface IBackendLoop
{
    /// <summary>Watches the connection's socket for its <see cref="BackendConnection.Interest"/>.</summary>
    void Register(BackendConnection connection);

    /// <summary>The connection is closing: its events stop.</summary>
    void Forget(BackendConnection connection);

    /// <summary>Changes the events watched for <paramref name="fd"/> when <paramref name="want"/> differs; returns it.</summary>
    uint Watch(int fd, uint interest, uint want);

    /// <summary>Fragment <paramref name="fragment"/> of <paramref name="reply"/> cannot be answered: its client gets <paramref name="reason"/>.</summary>
    void FailFragment(PendingReply reply, int fragment, string reason);
}
