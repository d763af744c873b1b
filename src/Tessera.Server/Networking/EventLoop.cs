using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Server.Config;
using Tessera.Server.Logging;
using Tessera.Server.Persistence.Aof;
using Tessera.Server.Sessions;

namespace Tessera.Server.Networking;

/// <summary>
/// One I/O thread that owns its sockets through epoll, as a Redis process does: it accepts (listeners are shared
/// with EPOLLEXCLUSIVE), reads, runs commands in the reading thread (under the execution lock), and writes the
/// replies straight away; a socket becomes writable-interest only when the kernel buffer is full. One loop per
/// core. Other threads post a connection that needs attention (the run loop itself is <see cref="EpollLoop{TConnection, TPosted}"/>).
/// </summary>
internal sealed unsafe class EventLoop : EpollLoop<SocketConnection, SocketConnection>
{
    private const int AcceptsPerWake = 64;

    private readonly ClientRegistry _clients;
    private readonly ServerConfig _config;
    private readonly AppendOnlyFile _aof;
    private readonly ILogger _log;
    private readonly Func<int, string?> _unixSocketPathOf;

    /// <summary>Connections whose replies wait for an fsync (appendfsync always), sent once the batch of events is handled.</summary>
    private readonly List<SocketConnection> _awaitingDisk = [];

    /// <summary>The loop of the current thread, for a busy script to serve its neighbours (null off loop threads).</summary>
    [ThreadStatic]
    private static EventLoop? _current;

    /// <summary>Events read while a busy script holds this loop's thread (a buffer of its own, the run's is in use).</summary>
    private byte[]? _busyEvents;

    /// <summary>True while serving clients from inside a busy script; the script's own client is left alone.</summary>
    private bool _servingWhileBusy;

    /// <summary>Wakes posted for a client that could not be served meanwhile, handed on afterwards.</summary>
    private readonly List<SocketConnection> _deferredWhileBusy = [];

    /// <param name="clients">Admits and registers the clients this loop accepts.</param>
    /// <param name="config">The node's configuration (tcp-keepalive, client-query-buffer-limit).</param>
    /// <param name="aof">Waited on before replies under appendfsync always.</param>
    /// <param name="log">The node's log.</param>
    /// <param name="unixSocketPathOf">The path of a Unix listening socket, null for a TCP one.</param>
    /// <param name="index">The loop's number (its thread's name).</param>
    public EventLoop(ClientRegistry clients, ServerConfig config, AppendOnlyFile aof, ILogger log, Func<int, string?> unixSocketPathOf, int index)
        // Deeply nested replies (a script's result, RESP3 maps) recurse; a Redis-sized stack keeps them in bounds.
        : base($"tessera-io-{index}", timerMs: 0, e => log.BackgroundJobFailed(e, "I/O loop"), 16 << 20)
    {
        _clients = clients;
        _config = config;
        _aof = aof;
        _log = log;
        _unixSocketPathOf = unixSocketPathOf;
    }

    /// <summary>Bytes received by this loop (INFO total_net_input_bytes sums all loops).</summary>
    public long NetInputBytes { get; private set; }

    /// <summary>Bytes sent by this loop.</summary>
    public long NetOutputBytes { get; private set; }

    /// <summary>
    /// Called from a script past busy-reply-threshold, on the thread running it (Redis's
    /// processEventsWhileBlocked): if that thread is a loop, it serves whatever its other clients sent meanwhile
    /// (they get -BUSY, or SCRIPT KILL and the few commands Redis allows), without waiting.
    /// </summary>
    public static void ServeWhileBusy() => _current?.ServeEventsWhileBusy();

    private void ServeEventsWhileBusy()
    {
        if (_servingWhileBusy || Stopping)
        {
            return;
        }
        _servingWhileBusy = true;
        try
        {
            _busyEvents ??= NewEventsBuffer();
            PollOnce(_busyEvents, 0);
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

    protected override void OnThreadStart() => _current = this;

    protected override void AfterBatch()
    {
        if (_awaitingDisk.Count > 0)
        {
            SendAfterFsync();
        }
    }

    protected override void OnStopped()
    {
        foreach (var connection in Connections)
        {
            CloseConnection(connection);
        }
    }

    /// <summary>A failure outside a command handler (those are contained where they run) costs only the connection it happened on.</summary>
    protected override void OnFailure(int fd, SocketConnection? connection, Exception failure)
    {
        _log.BackgroundJobFailed(failure, "client connection");
        if (connection is not null)
        {
            GuardedThread.Run(() => CloseConnection(connection), e => _log.BackgroundJobFailed(e, "client connection"));
        }
    }

    protected override void OnEvent(SocketConnection connection, uint flags)
    {
        if (Busy(connection))
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

    protected override void OnAccept(int listenFd)
    {
        for (var k = 0; k < AcceptsPerWake; k++)
        {
            var fd = Native.Accept4(listenFd, null, null, Native.SockNonBlock | Native.SockCloexec);
            if (fd < 0)
            {
                return;
            }
            var unixPath = _unixSocketPathOf(listenFd);
            if (unixPath is null)
            {
                Native.SetOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
                ConfigureKeepAlive(fd, (int)_config.TcpKeepAlive.Value);
            }
            var connection = new SocketConnection(this, fd);
            var remote = unixPath is null ? Native.FormatAddress(fd, peer: true) : unixPath + ":0";
            var local = unixPath is null ? Native.FormatAddress(fd, peer: false) : unixPath + ":0";
            var refusal = _clients.Admit(remote, unixPath is not null);
            if (refusal is not null)
            {
                fixed (byte* p = refusal)
                {
                    Native.Send(fd, p, refusal.Length, Native.MsgNoSignal);
                }
                Native.Close(fd);
                continue;
            }
            connection.Session = _clients.Register(connection, remote, local, unixPath is not null);
            connection.Interest = Native.EpollIn | Native.EpollRdHup;
            Register(fd, connection, connection.Interest);
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
        if (session.PendingInput > _config.ClientQueryBufferLimit.Value)
        {
            _log.QueryBufferLimit(session.RemoteAddress);
            CloseConnection(connection);
            return;
        }
        session.ProcessInput();
        if (Flush(connection))
        {
            ContinueAfterFlush(connection);
        }
    }

    protected override void OnPosted(SocketConnection connection)
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
        _aof.WaitDurable(offset);
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
            if (InBatch)
            {
                if (!connection.AwaitingDisk)
                {
                    connection.AwaitingDisk = true;
                    _awaitingDisk.Add(connection);
                }
                return true;
            }
            _aof.WaitDurable(session.DurableOffset);
            session.DurableOffset = -1;
        }
        var output = session.Output;
        while (true)
        {
            var sent = NonBlockingSend.Pending(connection.Fd, output);
            if (sent < 0)
            {
                CloseConnection(connection);
                return false;
            }
            NetOutputBytes += sent;
            // A full socket, or nothing left to send (a transfer in progress supplies the next chunk).
            if (!output.IsEmpty || !session.PullTransfer())
            {
                return true;
            }
        }
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
        connection.Interest = Watch(connection.Fd, connection.Interest, want);
    }

    private void CloseConnection(SocketConnection connection)
    {
        if (connection.Closed)
        {
            return;
        }
        connection.Closed = true;
        Unregister(connection.Fd);
        _clients.Unregister(connection.Session);
        Native.Close(connection.Fd);
        connection.Session.Release();
    }
}
