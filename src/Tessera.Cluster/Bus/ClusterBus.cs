using System.Net;
using System.Net.Sockets;

namespace Tessera.Cluster.Bus;

/// <summary>
/// The cluster bus on the bus port: every node keeps one outgoing link to each node it knows and answers the
/// links of the others. A link sends MEET (to a node met through CLUSTER MEET) or PING every
/// <see cref="PingIntervalMs"/> and gets a PONG back; either carries the sender's view (see ClusterNode.Receive).
/// Links run on threads of their own and take the execution lock only to read or apply a message. A connection
/// that sends anything but well-formed frames is closed; the node goes on.
/// </summary>
internal sealed class ClusterBus(ClusterNode node) : IDisposable
{
    public const int PingIntervalMs = 500;

    private readonly Dictionary<ClusterPeer, PeerLink> _links = [];
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;

    /// <summary>Listens on <paramref name="port"/> at <paramref name="address"/>.</summary>
    public void Listen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, port));
        socket.Listen(128);
        _listener = socket;
        new Thread(Accept) { Name = "tessera-bus-accept", IsBackground = true }.Start();
    }

    /// <summary>From the cron (under the lock): a link for every other node, none for nodes forgotten.</summary>
    public void MaintainLinks(IEnumerable<ClusterPeer> peers)
    {
        var wanted = peers.Where(p => !p.IsMyself).ToHashSet();
        foreach (var (peer, link) in _links.Where(l => !wanted.Contains(l.Key)).ToList())
        {
            link.Stop();
            _links.Remove(peer);
        }
        foreach (var peer in wanted.Where(p => !_links.ContainsKey(p)))
        {
            var link = new PeerLink(node, peer, _stop.Token);
            _links[peer] = link;
            link.Start();
        }
    }

    private void Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = _listener!.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            new Thread(() => Serve(connection)) { Name = "tessera-bus-in", IsBackground = true }.Start();
        }
    }

    /// <summary>Answers an incoming link: each MEET or PING gets a PONG.</summary>
    private void Serve(Socket connection)
    {
        using var socket = connection;
        using var stream = new NetworkStream(socket);
        var local = (socket.LocalEndPoint as IPEndPoint)?.Address.ToString() ?? "";
        var remote = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "";
        try
        {
            while (!_stop.IsCancellationRequested && BusMessage.Read(stream) is { } message)
            {
                byte[] reply;
                lock (node.Server.ExecutionLock)
                {
                    node.Receive(message, remote, local, link: null);
                    reply = node.Message(BusMessageType.Pong).Encode();
                }
                socket.Send(reply);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
        {
            // Garbage or a lost connection: only this connection ends.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener?.Dispose();
        foreach (var link in _links.Values)
        {
            link.Stop();
        }
    }
}

/// <summary>This node's outgoing link to one other node: MEET or PING, then the PONG applied.</summary>
internal sealed class PeerLink(ClusterNode node, ClusterPeer peer, CancellationToken stopping)
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    private Socket? _socket;

    public void Start() => new Thread(Run) { Name = "tessera-bus-out", IsBackground = true }.Start();

    public void Stop()
    {
        _stop.Cancel();
        _socket?.Dispose();
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000, SendTimeout = 5000 };
                _socket = socket;
                string ip;
                int port;
                lock (node.Server.ExecutionLock)
                {
                    (ip, port) = (peer.Ip, peer.BusPort);
                }
                socket.Connect(ip.Length == 0 ? "127.0.0.1" : ip, port);
                using var stream = new NetworkStream(socket);
                var local = (socket.LocalEndPoint as IPEndPoint)?.Address.ToString() ?? "";
                while (!_stop.IsCancellationRequested)
                {
                    byte[] ping;
                    lock (node.Server.ExecutionLock)
                    {
                        peer.PingSentMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        ping = node.Message(peer.Meet ? BusMessageType.Meet : BusMessageType.Ping).Encode();
                    }
                    socket.Send(ping);
                    var pong = BusMessage.Read(stream) ?? throw new IOException("the node closed the link");
                    lock (node.Server.ExecutionLock)
                    {
                        node.Receive(pong, ip, local, peer);
                    }
                    _stop.Token.WaitHandle.WaitOne(ClusterBus.PingIntervalMs);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
            {
                lock (node.Server.ExecutionLock)
                {
                    peer.Connected = false;
                }
            }
            _stop.Token.WaitHandle.WaitOne(1000);
        }
    }
}
