using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Proxy.Pools;
using Tessera.Proxy.Routing;
using Tessera.Resp;

namespace Tessera.Proxy.Networking;

/// <summary>
/// One proxy thread: an epoll loop that owns the clients it accepted and its own connections to every backend, so
/// nothing on the request path is shared or locked. Requests read in one batch of events are written to the
/// backend connections and sent together at the end of the batch (many clients' requests in one send), and so are
/// the replies. One loop per core; the listeners are shared with EPOLLEXCLUSIVE.
/// </summary>
internal sealed unsafe class ProxyLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const int AcceptsPerWake = 64;
    private const int TimerMs = 100;
    private const int MaxSpareReplies = 4096;


    private readonly ProxyServer _server;
    private readonly EpollSet _epollSet = new();
    private readonly Thread _thread;
    private readonly ConcurrentQueue<Action> _mailbox = new();
    private readonly List<BackendConnection> _dirtyBackends = [];
    private readonly List<ClientConnection> _dirtyClients = [];
    private readonly Stack<PendingReply> _spareReplies = new();
    private readonly Dictionary<int, ServerPool> _listeners = [];
    private readonly List<BackendConnection> _retiring = [];
    private object?[] _byFd = new object?[1024];
    private BackendConnection?[][][] _connections = [];
    private int[][] _nextConnection = [];
    private long _nextTimerMs;
    private volatile bool _stopping;

    public ProxyLoop(ProxyServer server, int index)
    {
        _server = server;
        _thread = GuardedThread.Create($"tessera-proxy-{index}", Run, e => ProxyLog.Warning($"proxy loop {index} stopped: {e}"));
        Router = new RequestRouter(this);
    }

    public RequestRouter Router { get; }

    /// <summary>The proxy this loop belongs to (for the admin command).</summary>
    public ProxyServer Server => _server;

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="action"/> on this loop's thread.</summary>
    public void Post(Action action)
    {
        _mailbox.Enqueue(action);
        _epollSet.Wake();
    }

    /// <summary>Serves <paramref name="pools"/> from now on: listeners and backend connection tables follow them.</summary>
    public void UsePools(IReadOnlyList<ServerPool> pools, IReadOnlyList<(Listener Listener, ServerPool Pool)> listeners)
    {
        foreach (var fd in _listeners.Keys)
        {
            Native.Control(_epollSet.Fd, Native.EpollCtlDel, fd, 0);
        }
        _listeners.Clear();
        foreach (var (listener, pool) in listeners)
        {
            _listeners[listener.Fd] = pool;
            Native.Control(_epollSet.Fd, Native.EpollCtlAdd, listener.Fd, Native.EpollIn | Native.EpollExclusive);
        }
        // A reload brings new pool objects: clients move to the pool of the same name (or are closed when it is
        // gone); connections of the old pools finish the requests they carry, then close.
        var fresh = pools.Select(pool => pool.Backends.Select(backend => new BackendConnection?[pool.Config.ServerConnections]).ToArray()).ToArray();
        foreach (var connection in _connections.SelectMany(table => table).SelectMany(slots => slots))
        {
            if (connection is { Closed: false })
            {
                Retire(connection);
            }
        }
        foreach (var client in _byFd.OfType<ClientConnection>().ToList())
        {
            if (pools.FirstOrDefault(pool => pool.Name == client.Pool.Name) is { } pool)
            {
                client.Pool = pool;
            }
            else
            {
                CloseClient(client);
            }
        }
        _connections = fresh;
        _nextConnection = [.. pools.Select(p => new int[p.Backends.Count])];
        foreach (var pool in pools.Where(p => p.Config.Preconnect))
        {
            foreach (var backend in pool.Backends)
            {
                ConnectionTo(pool, backend.Index);
            }
        }
    }

    private void Retire(BackendConnection connection)
    {
        if (connection.InflightCount == 0)
        {
            CloseBackend(connection, "the configuration was reloaded", countFailure: false);
            return;
        }
        connection.Retiring = true;
        _retiring.Add(connection);
    }

    /// <summary>Stops the loop and closes its connections; returns once the thread has ended.</summary>
    public void Stop()
    {
        _stopping = true;
        Post(() => { });
        if (Thread.CurrentThread != _thread && _thread.IsAlive)
        {
            _thread.Join();
        }
    }

    public void Dispose() => _epollSet.Dispose();

    /// <summary>A reply object from this loop's spares.</summary>
    public PendingReply RentReply() => _spareReplies.Count > 0 ? _spareReplies.Pop() : new PendingReply();

    public void Recycle(PendingReply reply)
    {
        reply.Recycle();
        // Spares beyond what a busy loop reuses are left to the GC: memory comes back when load drops.
        if (_spareReplies.Count < MaxSpareReplies)
        {
            _spareReplies.Push(reply);
        }
    }

    public void MarkDirty(ClientConnection client)
    {
        if (!client.Dirty)
        {
            client.Dirty = true;
            _dirtyClients.Add(client);
        }
    }

    /// <summary>Queues <paramref name="connection"/> to be flushed at the end of this batch of events.</summary>
    private void MarkDirty(BackendConnection connection)
    {
        if (!connection.Dirty)
        {
            connection.Dirty = true;
            _dirtyBackends.Add(connection);
        }
    }

    /// <summary>
    /// The connection to use for server <paramref name="server"/> of <paramref name="pool"/>: the next of its
    /// server_connections in turn, connecting it first when needed.
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
        var connection = new BackendConnection(pool, backend, socket);
        Register(connection.Fd, connection);
        connection.Interest = Native.EpollIn | Native.EpollOut | Native.EpollRdHup;
        Native.Control(_epollSet.Fd, Native.EpollCtlAdd, connection.Fd, connection.Interest);
        RequestRouter.WritePreamble(connection);
        return connection;
    }

    private void Register(int fd, object connection)
    {
        if (fd >= _byFd.Length)
        {
            Array.Resize(ref _byFd, Math.Max(fd + 1, _byFd.Length * 2));
        }
        _byFd[fd] = connection;
    }

    private void Run()
    {
        var stride = Native.EpollEventSize;
        var events = GC.AllocateArray<byte>(MaxEvents * stride, pinned: true);
        fixed (byte* buffer = events)
        {
            while (!_stopping)
            {
                var n = Native.EpollWait(_epollSet.Fd, buffer, MaxEvents, TimerMs);
                if (n < 0 && Marshal.GetLastPInvokeError() != Native.EIntr)
                {
                    break;
                }
                for (var i = 0; i < n && !_stopping; i++)
                {
                    var flags = *(uint*)(buffer + (i * stride));
                    var fd = (int)*(ulong*)(buffer + (i * stride) + Native.EpollDataOffset);
                    DispatchGuarded(fd, flags);
                }
                FlushDirty();
                var now = Environment.TickCount64;
                if (now >= _nextTimerMs)
                {
                    _nextTimerMs = now + TimerMs;
                    ExpireTimeouts();
                }
            }
        }
        foreach (var item in _byFd)
        {
            switch (item)
            {
                case ClientConnection client:
                    CloseClient(client);
                    break;
                case BackendConnection backend:
                    CloseBackend(backend, "the proxy is stopping", countFailure: false);
                    break;
            }
        }
    }

    /// <summary>
    /// Handles one event; an unexpected failure costs only the connection it happened on (a client, or a backend
    /// connection whose requests then fail), never the loop.
    /// </summary>
    private void DispatchGuarded(int fd, uint flags)
    {
        try
        {
            Dispatch(fd, flags);
        }
        catch (Exception e)
        {
            ProxyLog.Warning($"closing a connection after an unexpected failure: {e}");
            GuardedThread.Run(() => CloseAfterFailure(fd), failure => ProxyLog.Warning($"closing failed: {failure}"));
        }
    }

    private void CloseAfterFailure(int fd)
    {
        switch (fd < _byFd.Length ? _byFd[fd] : null)
        {
            case ClientConnection client:
                CloseClient(client);
                break;
            case BackendConnection backend:
                CloseBackend(backend, "the proxy failed on this connection", countFailure: false);
                break;
        }
    }

    private void Dispatch(int fd, uint flags)
    {
        if (fd == _epollSet.WakeFd)
        {
            _epollSet.ClearWake();
            while (_mailbox.TryDequeue(out var action))
            {
                action();
            }
            return;
        }
        if (_listeners.TryGetValue(fd, out var pool))
        {
            AcceptAll(fd, pool);
            return;
        }
        switch (fd < _byFd.Length ? _byFd[fd] : null)
        {
            case ClientConnection client:
                if ((flags & (Native.EpollIn | Native.EpollHup | Native.EpollErr | Native.EpollRdHup)) != 0)
                {
                    ReadClient(client);
                }
                if (!client.Closed && (flags & Native.EpollOut) != 0)
                {
                    MarkDirty(client);
                }
                break;
            case BackendConnection backend:
                if (!backend.Connected && (flags & (Native.EpollOut | Native.EpollErr | Native.EpollHup)) != 0)
                {
                    FinishConnect(backend);
                }
                if (!backend.Closed && backend.Connected && (flags & (Native.EpollIn | Native.EpollHup | Native.EpollErr | Native.EpollRdHup)) != 0)
                {
                    ReadBackend(backend);
                }
                if (!backend.Closed && backend.Connected && (flags & Native.EpollOut) != 0)
                {
                    MarkDirty(backend);
                }
                break;
        }
    }

    private void AcceptAll(int listenFd, ServerPool pool)
    {
        for (var k = 0; k < AcceptsPerWake; k++)
        {
            var fd = Native.Accept4(listenFd, null, null, Native.SockNonBlock | Native.SockCloexec);
            if (fd < 0)
            {
                return;
            }
            if (pool.Config.ClientConnections > 0 && Volatile.Read(ref pool.ClientCount) >= pool.Config.ClientConnections)
            {
                var refusal = "-ERR max number of clients reached\r\n"u8;
                fixed (byte* p = refusal)
                {
                    Native.Send(fd, p, refusal.Length, Native.MsgNoSignal);
                }
                Native.Close(fd);
                Interlocked.Increment(ref pool.Stats.ClientErr);
                continue;
            }
            Native.SetOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
            Interlocked.Increment(ref pool.ClientCount);
            Interlocked.Increment(ref pool.Stats.ClientConnections);
            Interlocked.Increment(ref _server.TotalConnections);
            var client = new ClientConnection(this, pool, fd) { Authenticated = pool.Config.RedisAuth.Length == 0 };
            Register(fd, client);
            client.Interest = Native.EpollIn | Native.EpollRdHup;
            Native.Control(_epollSet.Fd, Native.EpollCtlAdd, fd, client.Interest);
        }
    }

    private void ReadClient(ClientConnection client)
    {
        if (!client.WantsInput)
        {
            // Not reading now (backpressure or closing); a hang-up still closes it.
            if ((client.Interest & Native.EpollIn) == 0)
            {
                CloseClient(client);
            }
            return;
        }
        var n = client.Input.Receive(client.Fd, client.Parser.BytesNeeded);
        if (n == 0)
        {
            return;
        }
        if (n < 0)
        {
            Interlocked.Increment(ref client.Pool.Stats.ClientEof);
            CloseClient(client);
            return;
        }
        Router.ProcessInput(client);
        MarkDirty(client);
    }

    private void FinishConnect(BackendConnection connection)
    {
        var error = (SocketError)(int)connection.Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != SocketError.Success)
        {
            CloseBackend(connection, error == SocketError.ConnectionRefused ? "Connection refused" : $"Connection failed ({error})", countFailure: true);
            return;
        }
        connection.Connected = true;
        Interlocked.Increment(ref connection.Backend.Stats.ServerConnections);
        MarkDirty(connection);
    }

    private void ReadBackend(BackendConnection connection)
    {
        while (true)
        {
            var n = connection.Input.Receive(connection.Fd);
            if (n == 0)
            {
                return;
            }
            if (n < 0)
            {
                Interlocked.Increment(ref connection.Backend.Stats.ServerEof);
                CloseBackend(connection, "Connection reset by the server", countFailure: true);
                return;
            }
            Interlocked.Add(ref connection.Backend.Stats.ResponseBytes, n);
            if (!Router.ProcessReplies(connection))
            {
                CloseBackend(connection, "Protocol error from the server", countFailure: true);
                return;
            }
            if (connection.Retiring && connection.InflightCount == 0)
            {
                CloseBackend(connection, "the configuration was reloaded", countFailure: false);
                return;
            }
            if (!connection.Input.IsFull)
            {
                return;
            }
        }
    }

    /// <summary>Sends what the batch wrote: backend requests first (so their replies start coming), then client replies.</summary>
    private void FlushDirty()
    {
        for (var i = 0; i < _dirtyBackends.Count; i++)
        {
            var backend = _dirtyBackends[i];
            backend.Dirty = false;
            if (!backend.Closed && backend.Connected)
            {
                FlushBackend(backend);
            }
        }
        _dirtyBackends.Clear();
        for (var i = 0; i < _dirtyClients.Count; i++)
        {
            var client = _dirtyClients[i];
            client.Dirty = false;
            if (!client.Closed)
            {
                FlushClient(client);
            }
        }
        _dirtyClients.Clear();
    }

    private void FlushBackend(BackendConnection connection)
    {
        var sent = SendPending(connection.Fd, connection.Output);
        if (sent < 0)
        {
            CloseBackend(connection, "Connection reset by the server", countFailure: true);
            return;
        }
        Interlocked.Add(ref connection.Backend.Stats.RequestBytes, sent);
        connection.Interest = Watch(connection.Fd, connection.Interest,
            Native.EpollIn | Native.EpollRdHup | (connection.Output.IsEmpty ? 0 : Native.EpollOut));
    }

    private void FlushClient(ClientConnection client)
    {
        var output = client.Output;
        if (SendPending(client.Fd, output) < 0)
        {
            Interlocked.Increment(ref client.Pool.Stats.ClientErr);
            CloseClient(client);
            return;
        }
        if (client.CloseAfterReplies && output.IsEmpty && client.PendingCount == 0)
        {
            CloseClient(client);
            return;
        }
        // Backpressure lifted: requests already buffered go on before the socket is read again.
        if (client.WantsInput && !client.Input.IsEmpty && (client.Interest & Native.EpollIn) == 0)
        {
            Router.ProcessInput(client);
        }
        client.Interest = Watch(client.Fd, client.Interest,
            Native.EpollRdHup | (client.WantsInput ? Native.EpollIn : 0) | (output.IsEmpty ? 0 : Native.EpollOut));
    }

    /// <summary>Registers <paramref name="want"/> for <paramref name="fd"/> when it differs from <paramref name="interest"/>; returns it.</summary>
    private uint Watch(int fd, uint interest, uint want)
    {
        if (want != interest)
        {
            Native.Control(_epollSet.Fd, Native.EpollCtlMod, fd, want);
        }
        return want;
    }

    /// <summary>Sends what the kernel takes of <paramref name="output"/> now: the bytes sent, or -1 on a broken connection.</summary>
    private static long SendPending(int fd, OutputBuffer output)
    {
        long sent = 0;
        while (!output.IsEmpty)
        {
            var data = output.PeekFirst();
            nint n;
            fixed (byte* p = data)
            {
                n = Native.Send(fd, p, data.Length, Native.MsgNoSignal);
            }
            if (n > 0)
            {
                output.Consume(n);
                sent += n;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (n < 0 && errno == Native.EIntr)
            {
                continue;
            }
            if (n < 0 && errno != Native.EAgain)
            {
                return -1;
            }
            break;
        }
        return sent;
    }

    /// <summary>Fails the backend connections whose oldest request waited longer than the pool's timeout.</summary>
    private void ExpireTimeouts()
    {
        var now = Stopwatch.GetTimestamp();
        _retiring.RemoveAll(connection => connection.Closed);
        foreach (var connection in _connections.SelectMany(table => table).SelectMany(slots => slots).Concat(_retiring).ToList())
        {
            if (connection is null || connection.Closed || connection.InflightCount == 0)
            {
                continue;
            }
            var timeout = connection.Pool.Config.TimeoutMs;
            if (timeout > 0 && Stopwatch.GetElapsedTime(connection.Oldest.SentAt, now).TotalMilliseconds > timeout)
            {
                Interlocked.Increment(ref connection.Backend.Stats.ServerTimedout);
                CloseBackend(connection, "Connection timed out", countFailure: true);
            }
        }
    }

    /// <summary>Closes a backend connection; every request still waiting on it fails with <paramref name="reason"/>.</summary>
    public void CloseBackend(BackendConnection connection, string reason, bool countFailure)
    {
        if (connection.Closed)
        {
            return;
        }
        connection.Closed = true;
        if (connection.Fd < _byFd.Length)
        {
            _byFd[connection.Fd] = null;
        }
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
                Router.FailFragment(reply, entry.Fragment, reason);
            }
        }
        if (countFailure)
        {
            connection.Pool.RecordFailure(connection.Backend);
        }
    }

    private void CloseClient(ClientConnection client)
    {
        if (client.Closed)
        {
            return;
        }
        client.Closed = true;
        if (client.Fd < _byFd.Length)
        {
            _byFd[client.Fd] = null;
        }
        Native.Close(client.Fd);
        client.DetachPending();
        client.Output.Clear();
        Interlocked.Decrement(ref client.Pool.ClientCount);
    }
}
