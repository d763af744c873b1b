using System.Text;

namespace Tessera.Server.Sessions;

/// <summary>
/// Every connected client, for CLIENT LIST/KILL, INFO clients and maxclients. The set has its own small lock, so
/// connections come and go even while a slow script holds the execution lock; what a disconnected client leaves
/// in other registries (blocking, WATCH, pub/sub) is cleared under the execution lock, later if a script is busy.
/// </summary>
internal sealed class ClientRegistry(TesseraServer server)
{
    private const string ProtectedModeMessage =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the " +
        "default user. In this mode connections are only accepted from the loopback interface. If you want to connect " +
        "from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode " +
        "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the " +
        "same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. " +
        "Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by " +
        "editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the " +
        "server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' " +
        "option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above " +
        "things in order for the server to start accepting connections from the outside.\r\n";

    private readonly Dictionary<long, ClientSession> _sessions = [];
    private readonly Lock _lock = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<ClientSession> _forgetLater = new();
    private long _nextId;

    /// <summary>Connected clients.</summary>
    public int Count => _sessions.Count;

    /// <summary>Clients in connection order (ids grow).</summary>
    public IEnumerable<ClientSession> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _sessions.Values.OrderBy(s => s.Id)];
            }
        }
    }

    public long ConnectionsReceived { get; private set; }

    public long RejectedConnections { get; private set; }

    /// <summary>Null to accept a new connection, or the error line to send before closing it.</summary>
    public byte[]? Admit(string remote, bool unix)
    {
        lock (_lock)
        {
            ConnectionsReceived++;
            if (_sessions.Count >= server.Config.MaxClients.Value)
            {
                RejectedConnections++;
                return "-ERR max number of clients reached\r\n"u8.ToArray();
            }
            if (!unix && server.Config.ProtectedMode.Value && !server.Acl.AuthRequired && !IsLoopback(remote))
            {
                RejectedConnections++;
                return Encoding.ASCII.GetBytes(ProtectedModeMessage);
            }
            return null;
        }
    }

    /// <summary>Creates the session of a new connection.</summary>
    public ClientSession Register(IClientTransport? transport, string remote, string local, bool unix)
    {
        lock (_lock)
        {
            var session = new ClientSession(server, ++_nextId, transport, remote, local);
            if (unix)
            {
                session.Flags |= ClientFlags.UnixSocket;
            }
            _sessions[session.Id] = session;
            return session;
        }
    }

    /// <summary>Forgets a closed connection's session.</summary>
    public void Unregister(ClientSession session)
    {
        lock (_lock)
        {
            _sessions.Remove(session.Id);
        }
        if (!server.TryEnterExecution())
        {
            _forgetLater.Enqueue(session);
            return;
        }
        try
        {
            Forget(session);
        }
        finally
        {
            server.ExecutionLock.Exit();
        }
    }

    /// <summary>Clears what clients that disconnected during a slow script left behind (under the execution lock).</summary>
    public void ForgetDisconnected()
    {
        while (_forgetLater.TryDequeue(out var session))
        {
            Forget(session);
        }
    }

    private void Forget(ClientSession session)
    {
        server.Monitors.Remove(session);
        server.ClientPause.Forget(session);
        server.Blocking.Remove(session);
        server.Watches.UnwatchAll(session);
        server.PubSub.UnsubscribeAll(session);
        server.Tracking.Disable(session);
    }

    /// <summary>The client with this id, or null.</summary>
    public ClientSession? Find(long id)
    {
        lock (_lock)
        {
            return _sessions.GetValueOrDefault(id);
        }
    }

    private static bool IsLoopback(string address)
        => address.StartsWith("127.", StringComparison.Ordinal) || address.StartsWith("[::1]", StringComparison.Ordinal);
}
