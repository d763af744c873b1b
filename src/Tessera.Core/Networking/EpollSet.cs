using System.Runtime.InteropServices;

namespace Tessera.Core.Networking;

/// <summary>
/// An epoll instance with an eventfd registered in it, the pair every event loop needs: sockets are watched through
/// <see cref="Fd"/>, and other threads wake the loop with <see cref="Wake"/> (the loop sees <see cref="WakeFd"/>
/// readable and calls <see cref="ClearWake"/>).
/// </summary>
public sealed unsafe class EpollSet : IDisposable
{
    public EpollSet()
    {
        Fd = Native.EpollCreate1(0x80000);
        WakeFd = Native.EventFd(0, 0x80000 | 0x800);
        if (Fd < 0 || WakeFd < 0)
        {
            throw new IOException($"cannot create epoll/eventfd: errno {Marshal.GetLastPInvokeError()}");
        }
        Native.Control(Fd, Native.EpollCtlAdd, WakeFd, Native.EpollIn);
    }

    /// <summary>The epoll descriptor.</summary>
    public int Fd { get; }

    /// <summary>The eventfd that <see cref="Wake"/> makes readable.</summary>
    public int WakeFd { get; }

    /// <summary>Makes the loop's epoll_wait return (from any thread).</summary>
    public void Wake()
    {
        ulong one = 1;
        Native.Write(WakeFd, (byte*)&one, 8);
    }

    /// <summary>Consumes the wake-ups so far (on the loop's thread).</summary>
    public void ClearWake()
    {
        ulong value;
        Native.Read(WakeFd, (byte*)&value, 8);
    }

    public void Dispose()
    {
        Native.Close(WakeFd);
        Native.Close(Fd);
    }
}
