using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tessera.Core.Threading;

namespace Tessera.Core.Networking;

/// <summary>
/// The run loop the node's I/O threads and the proxy's threads share: one thread owning an epoll set, shared
/// listeners (EPOLLEXCLUSIVE), a table of its connections by descriptor, a mailbox other threads post to (one
/// eventfd wake per batch of posts) and an optional timer; <see cref="NonBlockingSend"/> flushes output. Each side
/// supplies the protocol: what an accept, a socket event, a posted item, the end of a batch and the timer do.
/// Events are level-triggered, so a connection not read now is seen again.
/// </summary>
/// <typeparam name="TConnection">What the loop keeps per descriptor.</typeparam>
/// <typeparam name="TPosted">What other threads post to the loop.</typeparam>
public abstract unsafe class EpollLoop<TConnection, TPosted> : IDisposable
    where TConnection : class
{
    private const int MaxEvents = 256;

    private readonly EpollSet _epollSet = new();
    private readonly Thread _thread;
    private readonly ConcurrentQueue<TPosted> _mailbox = new();
    private readonly int _timerMs;
    private TConnection?[] _byFd = new TConnection?[1024];
    private volatile int[] _listenerFds = [];
    private int _signaled;
    private long _nextTimerMs;
    private volatile bool _stopping;

    /// <param name="threadName">The loop thread's name.</param>
    /// <param name="timerMs">How often <see cref="OnTimer"/> runs, or 0 for never.</param>
    /// <param name="onThreadFailure">Logs a failure that ended the loop thread.</param>
    /// <param name="stackSize">The thread's stack size (0: the default).</param>
    protected EpollLoop(string threadName, int timerMs, Action<Exception> onThreadFailure, int stackSize = 0)
    {
        _timerMs = timerMs;
        _thread = GuardedThread.Create(threadName, Run, onThreadFailure, stackSize);
    }

    /// <summary>True once <see cref="Stop"/> was called.</summary>
    protected bool Stopping => _stopping;

    /// <summary>True while the loop handles the events of one epoll_wait (until <see cref="AfterBatch"/>).</summary>
    protected bool InBatch { get; private set; }

    /// <summary>The connections registered now (a copy, safe to close them while walking it).</summary>
    protected List<TConnection> Connections => [.. _byFd.OfType<TConnection>()];

    public void Start() => _thread.Start();

    /// <summary>Stops the loop (it closes its connections in <see cref="OnStopped"/>); returns once the thread has ended.</summary>
    public void Stop()
    {
        _stopping = true;
        _epollSet.Wake();
        if (Thread.CurrentThread != _thread && _thread.IsAlive)
        {
            _thread.Join();
        }
    }

    public void Dispose()
    {
        _epollSet.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Queues <paramref name="item"/> for <see cref="OnPosted"/> on the loop's thread and wakes the loop.</summary>
    public void Post(TPosted item)
    {
        _mailbox.Enqueue(item);
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _epollSet.Wake();
        }
    }

    /// <summary>Starts accepting on listening socket <paramref name="fd"/> (shared with the other loops).</summary>
    public void AddListener(int fd)
    {
        _listenerFds = [.. _listenerFds, fd];
        Native.Control(_epollSet.Fd, Native.EpollCtlAdd, fd, Native.EpollIn | Native.EpollExclusive);
    }

    /// <summary>Stops accepting on listening socket <paramref name="fd"/>.</summary>
    public void RemoveListener(int fd)
    {
        Native.Control(_epollSet.Fd, Native.EpollCtlDel, fd, 0);
        _listenerFds = [.. _listenerFds.Where(listener => listener != fd)];
    }

    /// <summary>Watches <paramref name="fd"/> for <paramref name="interest"/> and hands its events to <paramref name="connection"/>.</summary>
    protected void Register(int fd, TConnection connection, uint interest)
    {
        if (fd >= _byFd.Length)
        {
            Array.Resize(ref _byFd, Math.Max(fd + 1, _byFd.Length * 2));
        }
        _byFd[fd] = connection;
        Native.Control(_epollSet.Fd, Native.EpollCtlAdd, fd, interest);
    }

    /// <summary>Forgets <paramref name="fd"/> (closing a descriptor removes it from the epoll set).</summary>
    protected void Unregister(int fd)
    {
        if (fd < _byFd.Length)
        {
            _byFd[fd] = null;
        }
    }

    protected TConnection? ConnectionAt(int fd) => fd < _byFd.Length ? _byFd[fd] : null;

    /// <summary>Registers <paramref name="want"/> for <paramref name="fd"/> when it differs from <paramref name="interest"/>; returns it.</summary>
    protected uint Watch(int fd, uint interest, uint want)
    {
        if (want != interest)
        {
            Native.Control(_epollSet.Fd, Native.EpollCtlMod, fd, want);
        }
        return want;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for events and handles them; false when epoll failed. A loop
    /// thread busy inside a handler may call it with 0 and its own buffer to serve its other connections.
    /// </summary>
    protected bool PollOnce(byte[] events, int timeoutMs)
    {
        var stride = Native.EpollEventSize;
        fixed (byte* buffer = events)
        {
            var n = Native.EpollWait(_epollSet.Fd, buffer, events.Length / stride, timeoutMs);
            if (n < 0)
            {
                return Marshal.GetLastPInvokeError() == Native.EIntr;
            }
            for (var i = 0; i < n && !_stopping; i++)
            {
                var flags = *(uint*)(buffer + (i * stride));
                var fd = (int)*(ulong*)(buffer + (i * stride) + Native.EpollDataOffset);
                DispatchGuarded(fd, flags);
            }
        }
        return true;
    }

    /// <summary>An events buffer for <see cref="PollOnce"/>.</summary>
    protected static byte[] NewEventsBuffer() => GC.AllocateArray<byte>(MaxEvents * Native.EpollEventSize, pinned: true);

    /// <summary>Called first on the loop's thread.</summary>
    protected virtual void OnThreadStart()
    {
    }

    /// <summary>Accepts what is waiting on listening socket <paramref name="listenFd"/>.</summary>
    protected abstract void OnAccept(int listenFd);

    /// <summary>Handles the epoll <paramref name="flags"/> of one registered connection.</summary>
    protected abstract void OnEvent(TConnection connection, uint flags);

    protected abstract void OnPosted(TPosted item);

    /// <summary>
    /// A handler failed unexpectedly on <paramref name="fd"/> (its connection, if any): the side logs it and gives up
    /// that connection only; the loop and its other connections go on.
    /// </summary>
    protected abstract void OnFailure(int fd, TConnection? connection, Exception failure);

    /// <summary>After each batch of events (what the batch wrote is sent here by sides that batch their sends).</summary>
    protected virtual void AfterBatch()
    {
    }

    /// <summary>Every timerMs (see the constructor), after a batch.</summary>
    protected virtual void OnTimer()
    {
    }

    /// <summary>When the loop ends: closes the connections left.</summary>
    protected abstract void OnStopped();

    private void Run()
    {
        OnThreadStart();
        var events = NewEventsBuffer();
        while (!_stopping)
        {
            InBatch = true;
            var ok = PollOnce(events, _timerMs > 0 ? _timerMs : -1);
            InBatch = false;
            if (!ok)
            {
                break;
            }
            AfterBatch();
            if (_timerMs > 0)
            {
                var now = Environment.TickCount64;
                if (now >= _nextTimerMs)
                {
                    _nextTimerMs = now + _timerMs;
                    OnTimer();
                }
            }
        }
        OnStopped();
    }

    private void DispatchGuarded(int fd, uint flags)
    {
        TConnection? connection = null;
        try
        {
            if (fd == _epollSet.WakeFd)
            {
                _epollSet.ClearWake();
                Volatile.Write(ref _signaled, 0);
                while (_mailbox.TryDequeue(out var posted))
                {
                    OnPosted(posted);
                }
                return;
            }
            if (Array.IndexOf(_listenerFds, fd) >= 0)
            {
                OnAccept(fd);
                return;
            }
            connection = ConnectionAt(fd);
            if (connection is not null)
            {
                OnEvent(connection, flags);
            }
        }
        catch (Exception e)
        {
            OnFailure(fd, connection ?? ConnectionAt(fd), e);
        }
    }
}
