using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Networking;

/// <summary>
/// One I/O thread that owns its sockets through epoll, as a Redis process does: it accepts (listeners are shared
/// with EPOLLEXCLUSIVE), reads, runs commands in the reading thread (under the execution lock), and writes the
/// replies straight away; a socket becomes writable-interest only when the kernel buffer is full. One loop per
/// core. Other threads talk to a loop through its mailbox and an eventfd.
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const int AcceptsPerWake = 64;

    private readonly TesseraServer _server;
    private readonly EpollSet _epollSet = new();
    private readonly Thread _thread;
    private readonly ConcurrentQueue<SocketConnection> _mailbox = new();
    private int _signaled;
    private SocketConnection?[] _connections = new SocketConnection?[1024];

    /// <summary>Connections whose replies wait for an fsync (appendfsync always), sent once the batch of events is handled.</summary>
    private readonly List<SocketConnection> _awaitingDisk = [];
    private bool _inBatch;
    private volatile int[] _listenerFds = [];
    private volatile bool _stopping;

    /// <summary>The loop of the current thread, for a busy script to serve its neighbours (null off loop threads).</summary>
    [ThreadStatic]
    private static EventLoop? _current;

    /// <summary>Events read while a busy script holds this loop's thread (a buffer of its own, the run's is in use).</summary>
    private byte[]? _busyEvents;

    /// <summary>True while serving clients from inside a busy script; the script's own client is left alone.</summary>
    private bool _servingWhileBusy;

    /// <summary>Wakes posted for a client that could not be served meanwhile, handed on afterwards.</summary>
    private readonly List<SocketConnection> _deferredWhileBusy = [];

    public EventLoop(TesseraServer server, int index)
    {
        _server = server;
        // Deeply nested replies (a script's result, RESP3 maps) recurse; a Redis-sized stack keeps them in bounds.
        _thread = GuardedThread.Create($"tessera-io-{index}", Run, e => server.Log.BackgroundJobFailed(e, "I/O loop"), 16 << 20);
    }

    /// <summary>Bytes received by this loop (INFO total_net_input_bytes sums all loops).</summary>
    public long NetInputBytes { get; private set; }

    /// <summary>Bytes sent by this loop.</summary>
    public long NetOutputBytes { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>Starts accepting on <paramref name="listener"/> (shared with the other loops).</summary>
    public void AddListener(Listener listener)
    {
        _listenerFds = [.. _listenerFds, listener.Fd];
        Native.Control(_epollSet.Fd, Native.EpollCtlAdd, listener.Fd, Native.EpollIn | Native.EpollExclusive);
    }

    /// <summary>Stops accepting on <paramref name="listener"/>.</summary>
    public void RemoveListener(Listener listener)
    {
        Native.Control(_epollSet.Fd, Native.EpollCtlDel, listener.Fd, 0);
        _listenerFds = [.. _listenerFds.Where(fd => fd != listener.Fd)];
    }

    /// <summary>Queues <paramref name="connection"/> for attention on this loop's thread and wakes the loop.</summary>
    public void Post(SocketConnection connection)
    {
        _mailbox.Enqueue(connection);
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _epollSet.Wake();
        }
    }

    /// <summary>Stops the loop and closes its connections; returns once the thread has ended.</summary>
    public void Stop()
    {
        _stopping = true;
        _epollSet.Wake();
        if (Thread.CurrentThread != _thread && _thread.IsAlive)
        {
            _thread.Join();
        }
    }

    public void Dispose() => _epollSet.Dispose();

    /// <summary>
    /// Called from a script past busy-reply-threshold, on the thread running it (Redis's
    /// processEventsWhileBlocked): if that thread is a loop, it serves whatever its other clients sent meanwhile
    /// (they get -BUSY, or SCRIPT KILL and the few commands Redis allows), without waiting.
    /// </summary>
    public static void ServeWhileBusy() => _current?.ServeEventsWhileBusy();

    private void ServeEventsWhileBusy()
    {
        if (_servingWhileBusy || _stopping)
        {
            return;
        }
        _servingWhileBusy = true;
        try
        {
            var stride = Native.EpollEventSize;
            _busyEvents ??= GC.AllocateArray<byte>(MaxEvents * stride, pinned: true);
            fixed (byte* buffer = _busyEvents)
            {
                var n = Native.EpollWait(_epollSet.Fd, buffer, MaxEvents, 0);
                for (var i = 0; i < n && !_stopping; i++)
                {
                    var flags = *(uint*)(buffer + (i * stride));
                    var fd = (int)*(ulong*)(buffer + (i * stride) + Native.EpollDataOffset);
                    DispatchGuarded(fd, flags);
                }
            }
        }
        finally
        {
            _servingWhileBusy = false;
            foreach (var connection in _deferredWhileBusy)
            {
                Post(connection);
            }
            _deferredWhileBusy.Clear();
        }
    }

    /// <summary>True for the connection whose commands are running now: it cannot be served from inside them.</summary>
    private bool Busy(SocketConnection connection) => _servingWhileBusy && connection.Session.Processing;

    private void Run()
    {
        _current = this;
        var stride = Native.EpollEventSize;
        var events = GC.AllocateArray<byte>(MaxEvents * stride, pinned: true);
        fixed (byte* buffer = events)
        {
            while (!_stopping)
            {
                var n = Native.EpollWait(_epollSet.Fd, buffer, MaxEvents, -1);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Native.EIntr)
                    {
                        continue;
                    }
                    break;
                }
                _inBatch = true;
                for (var i = 0; i < n && !_stopping; i++)
                {
                    var flags = *(uint*)(buffer + (i * stride));
                    var fd = (int)*(ulong*)(buffer + (i * stride) + Native.EpollDataOffset);
                    DispatchGuarded(fd, flags);
                }
                _inBatch = false;
                if (_awaitingDisk.Count > 0)
                {
                    SendAfterFsync();
                }
            }
        }
        foreach (var connection in _connections)
        {
            if (connection is not null)
            {
                CloseConnection(connection);
            }
        }
    }

    /// <summary>
    /// Handles one event. A failure outside a command handler (those are contained where they run) costs only
    /// the connection it happened on; the loop and its other clients go on.
    /// </summary>
    private void DispatchGuarded(int fd, uint flags)
    {
        try
        {
            Dispatch(fd, flags);
        }
        catch (Exception e)
        {
            _server.Log.BackgroundJobFailed(e, "client connection");
            if (fd < _connections.Length && _connections[fd] is { } connection)
            {
                GuardedThread.Run(() => CloseConnection(connection), failure => _server.Log.BackgroundJobFailed(failure, "client connection"));
            }
        }
    }

    private void Dispatch(int fd, uint flags)
    {
        if (fd == _epollSet.WakeFd)
        {
            _epollSet.ClearWake();
            Volatile.Write(ref _signaled, 0);
            while (_mailbox.TryDequeue(out var posted))
            {
                HandlePosted(posted);
            }
            return;
        }
        if (Array.IndexOf(_listenerFds, fd) >= 0)
        {
            AcceptAll(fd);
            return;
        }
        var connection = fd < _connections.Length ? _connections[fd] : null;
        if (connection is null || Busy(connection))
        {
            // The busy script's own client: level-triggered, its events come again once the script is done.
            return;
        }
        if ((flags & (Native.EpollIn | Native.EpollHup | Native.EpollErr | Native.EpollRdHup)) != 0)
        {
            OnReadable(connection);
        }
        if (!connection.Closed && (flags & Native.EpollOut) != 0)
        {
            Flush(connection);
            ContinueAfterFlush(connection);
        }
    }

    private void AcceptAll(int listenFd)
    {
        for (var k = 0; k < AcceptsPerWake; k++)
        {
            var fd = Native.Accept4(listenFd, null, null, Native.SockNonBlock | Native.SockCloexec);
            if (fd < 0)
            {
                return;
            }
            var unixPath = _server.UnixSocketPathOf(listenFd);
            if (unixPath is null)
            {
                Native.SetOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
                ConfigureKeepAlive(fd, (int)_server.Config.TcpKeepAlive.Value);
            }
            var connection = new SocketConnection(this, fd);
            var remote = unixPath is null ? Native.FormatAddress(fd, peer: true) : unixPath + ":0";
            var local = unixPath is null ? Native.FormatAddress(fd, peer: false) : unixPath + ":0";
            var refusal = _server.Clients.Admit(remote, unixPath is not null);
            if (refusal is not null)
            {
                fixed (byte* p = refusal)
                {
                    Native.Send(fd, p, refusal.Length, Native.MsgNoSignal);
                }
                Native.Close(fd);
                continue;
            }
            connection.Session = _server.Clients.Register(connection, remote, local, unixPath is not null);
            if (fd >= _connections.Length)
            {
                Array.Resize(ref _connections, Math.Max(fd + 1, _connections.Length * 2));
            }
            _connections[fd] = connection;
            connection.Interest = Native.EpollIn | Native.EpollRdHup;
            Native.Control(_epollSet.Fd, Native.EpollCtlAdd, fd, connection.Interest);
        }
    }

    private static void ConfigureKeepAlive(int fd, int seconds)
    {
        if (seconds <= 0)
        {
            return;
        }
        // As Redis's anetKeepAlive: probes after the idle time, then every third of it, three times.
        Native.SetOption(fd, Native.SolSocket, Native.SoKeepAlive, 1);
        Native.SetOption(fd, Native.IpProtoTcp, Native.TcpKeepIdle, seconds);
        Native.SetOption(fd, Native.IpProtoTcp, Native.TcpKeepIntvl, Math.Max(1, seconds / 3));
        Native.SetOption(fd, Native.IpProtoTcp, Native.TcpKeepCnt, 3);
    }

    private void OnReadable(SocketConnection connection)
    {
        var session = connection.Session;
        if (session.Postponed || session.ClosingAfterReply)
        {
            // Not reading now; a hang-up still closes the connection.
            if ((connection.Interest & Native.EpollIn) == 0)
            {
                CloseConnection(connection);
            }
            return;
        }
        var span = session.GetReadBuffer();
        nint n;
        fixed (byte* p = span)
        {
            n = Native.Recv(connection.Fd, p, span.Length, 0);
        }
        if (n <= 0)
        {
            if (n < 0 && Marshal.GetLastPInvokeError() is Native.EAgain or Native.EIntr)
            {
                return;
            }
            CloseConnection(connection);
            return;
        }
        session.CommitRead((int)n);
        NetInputBytes += n;
        if (session.PendingInput > _server.Config.ClientQueryBufferLimit.Value)
        {
            _server.Log.QueryBufferLimit(session.RemoteAddress);
            CloseConnection(connection);
            return;
        }
        session.ProcessInput();
        if (Flush(connection))
        {
            ContinueAfterFlush(connection);
        }
    }

    private void HandlePosted(SocketConnection connection)
    {
        if (Busy(connection))
        {
            _deferredWhileBusy.Add(connection);
            return;
        }
        connection.ClearWake();
        if (connection.Closed)
        {
            return;
        }
        if (connection.CloseRequested)
        {
            CloseConnection(connection);
            return;
        }
        connection.Session.DrainRemoteOutput();
        if (!connection.Session.Postponed)
        {
            connection.Session.ProcessInput();
        }
        if (Flush(connection))
        {
            ContinueAfterFlush(connection);
        }
    }

    /// <summary>
    /// appendfsync always, as Redis's beforeSleep: every connection that ran writes in this batch of events
    /// waits for one fsync covering all of them, then gets its replies.
    /// </summary>
    private void SendAfterFsync()
    {
        long offset = -1;
        foreach (var connection in _awaitingDisk)
        {
            offset = Math.Max(offset, connection.Session.DurableOffset);
        }
        _server.Aof.WaitDurable(offset);
        foreach (var connection in _awaitingDisk)
        {
            connection.Session.DurableOffset = -1;
            connection.AwaitingDisk = false;
            if (!connection.Closed && Flush(connection))
            {
                ContinueAfterFlush(connection);
            }
        }
        _awaitingDisk.Clear();
    }

    /// <summary>Sends what the kernel will take now; false when the connection was closed on an error.</summary>
    private bool Flush(SocketConnection connection)
    {
        var session = connection.Session;
        if (session.DurableOffset >= 0)
        {
            if (_inBatch)
            {
                if (!connection.AwaitingDisk)
                {
                    connection.AwaitingDisk = true;
                    _awaitingDisk.Add(connection);
                }
                return true;
            }
            _server.Aof.WaitDurable(session.DurableOffset);
            session.DurableOffset = -1;
        }
        var output = session.Output;
        while (!output.IsEmpty || session.PullTransfer())
        {
            var segment = output.PeekFirst();
            nint n;
            fixed (byte* p = segment)
            {
                n = Native.Send(connection.Fd, p, segment.Length, Native.MsgNoSignal);
            }
            if (n > 0)
            {
                output.Consume(n);
                NetOutputBytes += n;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EIntr)
            {
                continue;
            }
            if (errno == Native.EAgain)
            {
                return true;
            }
            CloseConnection(connection);
            return false;
        }
        return true;
    }

    /// <summary>
    /// After a flush: runs commands held back by output backpressure once the client caught up, closes after a
    /// QUIT once everything is sent, and registers for the events the connection now needs.
    /// </summary>
    private void ContinueAfterFlush(SocketConnection connection)
    {
        var session = connection.Session;
        while (session.Output.IsEmpty && session.PendingInput > 0 && !session.Postponed && !session.ClosingAfterReply)
        {
            var before = session.PendingInput;
            session.ProcessInput();
            if (!Flush(connection))
            {
                return;
            }
            if (session.PendingInput == before)
            {
                break;
            }
        }
        if (session.ClosingAfterReply && session.Output.IsEmpty)
        {
            CloseConnection(connection);
            return;
        }
        var want = Native.EpollRdHup;
        if (!session.Postponed && !session.ClosingAfterReply && session.Output.Length < ClientSession.OutputBackpressureBytes)
        {
            want |= Native.EpollIn;
        }
        if (!session.Output.IsEmpty)
        {
            want |= Native.EpollOut;
        }
        if (want != connection.Interest)
        {
            connection.Interest = want;
            Native.Control(_epollSet.Fd, Native.EpollCtlMod, connection.Fd, want);
        }
    }

    private void CloseConnection(SocketConnection connection)
    {
        if (connection.Closed)
        {
            return;
        }
        connection.Closed = true;
        if (connection.Fd < _connections.Length)
        {
            _connections[connection.Fd] = null;
        }
        _server.Clients.Unregister(connection.Session);
        Native.Close(connection.Fd);
        connection.Session.Release();
    }
}
