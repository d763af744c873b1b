using System.Net;
using System.Net.Sockets;
using Tessera.Core.Networking;
using Tessera.Core.Threading;

namespace Tessera.Cluster.Bus;

/// <summary>
/// The cluster bus on the bus port: every node keeps one outgoing link to each node it knows and answers the
/// links of the others. A link sends the messages queued for its node (FAIL, votes, ...) as they come, and MEET
/// (to a node met through CLUSTER MEET) or PING every <see cref="PingIntervalMs"/>; every message gets a PONG back,
/// and each carries its sender's view (see ClusterNode.Receive). Links run on threads of their own and take the
/// execution lock only to build or apply a message. A connection that sends anything but well-formed frames is
/// closed; the node goes on.
/// </summary>
internal sealed class ClusterBus(ClusterNode node) : IDisposable
{
    public const int PingIntervalMs = 500;

    private readonly Dictionary<ClusterPeer, PeerLink> _links = [];

    /// <summary>
    /// Incoming links by the node that identified itself on them, with the number of the connection (accepted
    /// later, higher), changed under the execution lock.
    /// </summary>
    private readonly Dictionary<ClusterPeer, (long Serial, BusLinkInfo Link)> _inbound = [];
    private long _accepted;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;

    /// <summary>
    /// Listens on <paramref name="port"/> at <paramref name="address"/>; a port that cannot be bound is an
    /// IOException naming it, which stops start-up as Redis's cluster init does.
    /// </summary>
    public void Listen(IPAddress address, int port)
    {
        try
        {
            _listener = Listener.BindTcp(address, port, 511);
        }
        catch (SocketException e)
        {
            throw new IOException($"Could not create cluster bus TCP listening socket {address}:{port}: {e.Message}", e);
        }
        GuardedThread.Start("tessera-bus-accept", Accept, e => node.Host.Log.BusJobFailed(e, "cluster bus accept"));
    }

    /// <summary>From the cron (under the lock): a link for every other node, none for nodes forgotten.</summary>
    public void MaintainLinks(IEnumerable<ClusterPeer> peers)
    {
        var wanted = peers.Where(p => !p.IsMyself).ToHashSet();
        foreach (var (peer, link) in _links.Where(l => !wanted.Contains(l.Key)).ToList())
        {
            link.Stop();
            _links.Remove(peer);
            _inbound.Remove(peer);
        }
        foreach (var peer in wanted.Where(p => !_links.ContainsKey(p)))
        {
            var link = new PeerLink(node, peer, _stop.Token);
            _links[peer] = link;
            link.Start();
        }
    }

    /// <summary>Queues <paramref name="message"/> for <paramref name="peer"/>'s link (under the lock).</summary>
    public void Send(ClusterPeer peer, BusMessage message)
    {
        if (_links.TryGetValue(peer, out var link))
        {
            link.Enqueue(message);
        }
    }

    /// <summary>Queues <paramref name="message"/> for every node <paramref name="to"/> accepts.</summary>
    public void Broadcast(BusMessage message, Func<ClusterPeer, bool> to)
    {
        foreach (var (peer, link) in _links)
        {
            if (!peer.Handshake && to(peer))
            {
                link.Enqueue(message);
            }
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
            GuardedThread.Start("tessera-bus-in", () => Serve(connection), e => node.Host.Log.BusJobFailed(e, "cluster bus link"));
        }
    }

    /// <summary>
    /// CLUSTER LINKS (under the lock): the outgoing link of every known node, and its incoming one once that node
    /// has identified itself on it.
    /// </summary>
    public List<BusLinkInfo> Links()
    {
        var links = new List<BusLinkInfo>();
        foreach (var (peer, link) in _links)
        {
            if (!peer.Handshake)
            {
                links.Add(link.Describe(peer.Id));
            }
            if (_inbound.TryGetValue(peer, out var inbound))
            {
                links.Add(inbound.Link with { NodeId = peer.Id });
            }
        }
        return links;
    }

    /// <summary>Answers an incoming link: each MEET or PING gets a PONG.</summary>
    private void Serve(Socket connection)
    {
        using var socket = connection;
        using var stream = new NetworkStream(socket);
        var local = (socket.LocalEndPoint as IPEndPoint)?.Address.ToString() ?? "";
        var remote = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "";
        var self = new BusLinkInfo(Inbound: true, NodeId: "", CreatedMs: ClusterNode.NowMs, Events: "r", 0, 0);
        var serial = Interlocked.Increment(ref _accepted);
        ClusterPeer? sender = null;
        try
        {
            while (!_stop.IsCancellationRequested && BusMessage.Read(stream) is { } message)
            {
                byte[] reply;
                lock (node.Host.ExecutionLock)
                {
                    node.Receive(message, remote, local, link: null);
                    reply = node.Message(BusMessageType.Pong).Encode();
                    // As Redis: a node's newest incoming link replaces the one it had. Looked up on every message,
                    // since the node known by that id can change (a handshake resolved, a node forgotten and met),
                    // and an older connection may only identify its node after a newer one did.
                    if (node.Peers.TryGetValue(message.SenderId, out var known) && !known.IsMyself)
                    {
                        if (known != sender)
                        {
                            ForgetInbound(sender, serial);
                            sender = known;
                        }
                        if (!_inbound.TryGetValue(sender, out var current) || current.Serial < serial)
                        {
                            _inbound[sender] = (serial, self);
                        }
                    }
                }
                socket.Send(reply);
            }
        }
        catch (Exception e)
        {
            // Garbage or a lost connection: only this connection ends.
            if (!IsLinkFailure(e))
            {
                node.Host.Log.BusJobFailed(e, "cluster bus link");
            }
        }
        finally
        {
            lock (node.Host.ExecutionLock)
            {
                ForgetInbound(sender, serial);
            }
        }
    }

    /// <summary>Drops connection <paramref name="serial"/> as <paramref name="peer"/>'s incoming link unless another took its place.</summary>
    private void ForgetInbound(ClusterPeer? peer, long serial)
    {
        if (peer is not null && _inbound.TryGetValue(peer, out var current) && current.Serial == serial)
        {
            _inbound.Remove(peer);
        }
    }

    /// <summary>What a lost connection or a peer's garbage throws, as opposed to a bug here.</summary>
    internal static bool IsLinkFailure(Exception e) => e is IOException or SocketException or InvalidDataException or ObjectDisposedException;

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

/// <summary>
/// This node's outgoing link to one other node: queued messages, else MEET or PING, each followed by the PONG
/// applied. The time of the oldest unanswered ping (the peer's PingSentMs) is what failure detection reads; a link
/// without an answer for half the node timeout reconnects, as Redis's.
/// </summary>
internal sealed class PeerLink(ClusterNode node, ClusterPeer peer, CancellationToken stopping)
{
    /// <summary>Messages for a node that cannot be reached are dropped past this many, as a freed link's are.</summary>
    private const int MaxQueued = 64;

    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    private readonly Queue<byte[]> _outbox = new();
    private readonly AutoResetEvent _wake = new(false);
    private Socket? _socket;
    private long _createdMs = ClusterNode.NowMs;
    private volatile bool _connected;
    private int _queuedBytes;
    private int _peakQueuedBytes;

    public void Start() => GuardedThread.Start("tessera-bus-out", Run, e => node.Host.Log.BusJobFailed(e, "cluster bus link"));

    public void Stop()
    {
        _stop.Cancel();
        _wake.Set();
        _socket?.Dispose();
    }

    public void Enqueue(BusMessage message)
    {
        lock (_outbox)
        {
            if (_outbox.Count < MaxQueued)
            {
                var frame = message.Encode();
                _outbox.Enqueue(frame);
                _queuedBytes += frame.Length;
                _peakQueuedBytes = Math.Max(_peakQueuedBytes, _queuedBytes);
            }
        }
        _wake.Set();
    }

    /// <summary>
    /// This link as CLUSTER LINKS shows it: created when the current connection attempt began; reading once
    /// connected, writing while messages wait; the send buffer is the queued messages (allocated: the most queued).
    /// </summary>
    public BusLinkInfo Describe(string nodeId)
    {
        lock (_outbox)
        {
            var events = !_connected ? "" : _outbox.Count > 0 ? "rw" : "r";
            return new BusLinkInfo(Inbound: false, nodeId, Volatile.Read(ref _createdMs), events, _peakQueuedBytes, _queuedBytes);
        }
    }

    private bool HasQueued()
    {
        lock (_outbox)
        {
            return _outbox.Count > 0;
        }
    }

    private byte[]? Dequeue()
    {
        lock (_outbox)
        {
            if (!_outbox.TryDequeue(out var frame))
            {
                return null;
            }
            _queuedBytes -= frame.Length;
            return frame;
        }
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                string ip;
                string connectIp;
                int port;
                int timeout;
                lock (node.Host.ExecutionLock)
                {
                    (ip, connectIp, port, timeout) = (peer.Ip, peer.ConnectIp, peer.BusPort, (int)Math.Clamp(node.NodeTimeoutMs / 2, 100, int.MaxValue));
                }
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = timeout, SendTimeout = timeout };
                _socket = socket;
                Volatile.Write(ref _createdMs, ClusterNode.NowMs);
                socket.Connect(connectIp, port);
                _connected = true;
                using var stream = new NetworkStream(socket);
                var local = (socket.LocalEndPoint as IPEndPoint)?.Address.ToString() ?? "";
                var lastPingMs = 0L;
                while (!_stop.IsCancellationRequested)
                {
                    byte[] frame;
                    lock (node.Host.ExecutionLock)
                    {
                        var queued = Dequeue();
                        if (queued is null)
                        {
                            // Only the oldest unanswered ping counts, so a peer that stopped answering times out.
                            peer.PingSentMs = peer.PingSentMs == 0 ? ClusterNode.NowMs : peer.PingSentMs;
                            lastPingMs = Environment.TickCount64;
                        }
                        frame = queued ?? node.Message(peer.Meet ? BusMessageType.Meet : BusMessageType.Ping).Encode();
                    }
                    socket.Send(frame);
                    var pong = BusMessage.Read(stream) ?? throw new IOException("the node closed the link");
                    lock (node.Host.ExecutionLock)
                    {
                        node.Receive(pong, ip, local, peer);
                    }
                    var wait = ClusterBus.PingIntervalMs - (Environment.TickCount64 - lastPingMs);
                    if (wait > 0 && !HasQueued())
                    {
                        _wake.WaitOne((int)wait);
                    }
                }
            }
            catch (Exception e)
            {
                if (!ClusterBus.IsLinkFailure(e))
                {
                    // A bug handling a message: logged, and the link starts over like a lost one.
                    node.Host.Log.BusJobFailed(e, "cluster bus link");
                }
                lock (node.Host.ExecutionLock)
                {
                    peer.Connected = false;
                    // As Redis: a node that cannot be reached counts as pinged from the first attempt on.
                    peer.PingSentMs = peer.PingSentMs == 0 ? ClusterNode.NowMs : peer.PingSentMs;
                }
                _connected = false;
                lock (_outbox)
                {
                    _outbox.Clear();
                    _queuedBytes = 0;
                }
            }
            _wake.WaitOne(Math.Min(1000, ClusterBus.PingIntervalMs));
        }
    }
}

/// <summary>One bus link as CLUSTER LINKS describes it (Redis's addReplyClusterLinkDescription).</summary>
internal sealed record BusLinkInfo(bool Inbound, string NodeId, long CreatedMs, string Events, long SendBufferAllocated, long SendBufferUsed);
