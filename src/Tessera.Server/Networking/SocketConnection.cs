using Tessera.Core.Networking;
using Tessera.Server.Sessions;

namespace Tessera.Server.Networking;

/// <summary>
/// A client socket owned by one <see cref="EventLoop"/>. Only that loop reads, writes and closes it; other
/// threads reach it through <see cref="Wake"/> and <see cref="Close"/>, which post to the loop's mailbox.
/// </summary>
internal sealed class SocketConnection(EventLoop loop, int fd) : IClientTransport
{
    private int _wakePending;

    public int Fd { get; } = fd;

    public EventLoop Loop { get; } = loop;

    public ClientSession Session { get; set; } = null!;

    /// <summary>The epoll events currently registered.</summary>
    public uint Interest { get; set; }

    /// <summary>Set once the connection is closed; later events for the descriptor are ignored.</summary>
    public bool Closed { get; set; }

    /// <summary>True while its replies wait in the loop's list for the batch's fsync (appendfsync always).</summary>
    public bool AwaitingDisk { get; set; }

    /// <summary>Set by <see cref="Close"/> from another thread.</summary>
    public volatile bool CloseRequested;

    public bool WaitingToWrite => (Interest & Native.EpollOut) != 0;

    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Loop.Post(this);
        }
    }

    public void Close()
    {
        CloseRequested = true;
        Loop.Post(this);
    }

    /// <summary>Called by the loop before it handles a posted wake.</summary>
    public void ClearWake() => Volatile.Write(ref _wakePending, 0);
}
