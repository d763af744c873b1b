using System.Net.Sockets;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Proxy.Pools;
using Tessera.Proxy.Routing;

namespace Tessera.Proxy.Networking;

/// <summary>
/// One proxy thread: an epoll loop (<see cref="EpollLoop{TConnection, TPosted}"/>, as the node's) that owns the
/// clients it accepted and its own connections to every backend (<see cref="BackendConnections"/>), so nothing on
/// the request path is shared or locked. Requests read in one batch of events are written to the backend
/// connections and sent together at the end of the batch (many clients' requests in one send), and so are the
/// replies. One loop per core; the listeners are shared with EPOLLEXCLUSIVE.
/// </summary>
internal sealed unsafe class ProxyLoop : EpollLoop<object, Action>, IBackendLoop
{
    private const int AcceptsPerWake = 64;
    private const int TimerMs = 100;

    private readonly List<ClientConnection> _dirtyClients = [];
    private readonly Dictionary<int, ServerPool> _listeners = [];

    public ProxyLoop(ProxyServer server, int index)
        : base($"tessera-proxy-{index}", TimerMs, e => ProxyLog.Warning($"proxy loop {index} stopped: {e}"))
    {
        Server = server;
        Backends = new BackendConnections(this);
        Router = new RequestRouter(this, Backends, Replies);
    }

    public RequestRouter Router { get; }

    /// <summary>This loop's connections to the backends.</summary>
    public BackendConnections Backends { get; }

    /// <summary>This loop's spare reply objects.</summary>
    public PendingReplyPool Replies { get; } = new();

    /// <summary>The proxy this loop belongs to (for the admin command).</summary>
    public ProxyServer Server { get; }

    /// <summary>Serves <paramref name="pools"/> from now on: listeners and backend connections follow them.</summary>
    public void UsePools(IReadOnlyList<ServerPool> pools, IReadOnlyList<(Listener Listener, ServerPool Pool)> listeners)
    {
        foreach (var fd in _listeners.Keys)
        {
            RemoveListener(fd);
        }
        _listeners.Clear();
        foreach (var (listener, pool) in listeners)
        {
            _listeners[listener.Fd] = pool;
            AddListener(listener.Fd);
        }
        // A reload brings new pool objects: clients move to the pool of the same name (or are closed when it is
        // gone); connections of the old pools finish the requests they carry, then close.
        foreach (var client in Connections.OfType<ClientConnection>())
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
        Backends.UsePools(pools);
    }

    public void MarkDirty(ClientConnection client)
    {
        if (!client.Dirty)
        {
            client.Dirty = true;
            _dirtyClients.Add(client);
        }
    }

    void IBackendLoop.Register(BackendConnection connection) => Register(connection.Fd, connection, connection.Interest);

    void IBackendLoop.Forget(BackendConnection connection) => Unregister(connection.Fd);

    uint IBackendLoop.Watch(int fd, uint interest, uint want) => Watch(fd, interest, want);

    void IBackendLoop.FailFragment(PendingReply reply, int fragment, string reason) => Router.FailFragment(reply, fragment, reason);

    protected override void OnPosted(Action action) => action();

    protected override void OnEvent(object connection, uint flags)
    {
        switch (connection)
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
                    Backends.MarkDirty(backend);
                }
                break;
        }
    }

    /// <summary>An unexpected failure costs only the connection it happened on (a client, or a backend connection whose requests then fail).</summary>
    protected override void OnFailure(int fd, object? connection, Exception failure)
    {
        ProxyLog.Warning($"closing a connection after an unexpected failure: {failure}");
        GuardedThread.Run(() => Close(connection, "the proxy failed on this connection"), e => ProxyLog.Warning($"closing failed: {e}"));
    }

    /// <summary>Sends what the batch wrote: backend requests first (so their replies start coming), then client replies.</summary>
    protected override void AfterBatch()
    {
        Backends.FlushDirty();
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

    protected override void OnTimer() => Backends.ExpireTimeouts();

    protected override void OnStopped()
    {
        foreach (var connection in Connections)
        {
            Close(connection, "the proxy is stopping");
        }
    }

    private void Close(object? connection, string reason)
    {
        switch (connection)
        {
            case ClientConnection client:
                CloseClient(client);
                break;
            case BackendConnection backend:
                Backends.Close(backend, reason, countFailure: false);
                break;
        }
    }

    protected override void OnAccept(int listenFd)
    {
        var pool = _listeners[listenFd];
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
            Interlocked.Increment(ref Server.TotalConnections);
            var client = new ClientConnection(this, pool, fd)
            {
                Authenticated = pool.Config.RedisAuth.Length == 0,
                Interest = Native.EpollIn | Native.EpollRdHup,
            };
            Register(fd, client, client.Interest);
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
            Backends.Close(connection, error == SocketError.ConnectionRefused ? "Connection refused" : $"Connection failed ({error})", countFailure: true);
            return;
        }
        connection.Connected = true;
        Interlocked.Increment(ref connection.Backend.Stats.ServerConnections);
        Backends.MarkDirty(connection);
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
                Backends.Close(connection, "Connection reset by the server", countFailure: true);
                return;
            }
            Interlocked.Add(ref connection.Backend.Stats.ResponseBytes, n);
            if (!Router.ProcessReplies(connection))
            {
                Backends.Close(connection, "Protocol error from the server", countFailure: true);
                return;
            }
            Backends.CloseIfRetired(connection);
            if (connection.Closed)
            {
                return;
            }
            if (!connection.Input.IsFull)
            {
                return;
            }
        }
    }

    private void FlushClient(ClientConnection client)
    {
        var output = client.Output;
        if (NonBlockingSend.Pending(client.Fd, output) < 0)
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

    private void CloseClient(ClientConnection client)
    {
        if (client.Closed)
        {
            return;
        }
        client.Closed = true;
        Unregister(client.Fd);
        Native.Close(client.Fd);
        client.DetachPending();
        client.Output.Clear();
        Interlocked.Decrement(ref client.Pool.ClientCount);
    }
}
