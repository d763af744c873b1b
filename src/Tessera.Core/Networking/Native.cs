using System.Runtime.InteropServices;

namespace Tessera.Core.Networking;

/// <summary>
/// The Linux calls the event loops make directly: epoll, eventfd, accept4, recv/send on non-blocking sockets.
/// Owning sockets through epoll on our own threads avoids the thread-pool hop of .NET's socket engine, which
/// DESIGN.md measured at ~60% more CPU per request on a busy core.
/// </summary>
public static partial class Native
{
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;

    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollExclusive = 1u << 28;

    public const int EAgain = 11;
    public const int EIntr = 4;

    public const int SockNonBlock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int MsgNoSignal = 0x4000;

    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpKeepIdle = 4;
    public const int TcpKeepIntvl = 5;
    public const int TcpKeepCnt = 6;
    public const int SolSocket = 1;
    public const int SoKeepAlive = 9;
    public const int SoReuseAddr = 2;

    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int AfUnix = 1;

    /// <summary>Size of struct epoll_event: packed (12 bytes) on x86-64, 16 bytes elsewhere.</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of epoll_event.data.</summary>
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport("libc", SetLastError = true, EntryPoint = "epoll_create1")]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "epoll_ctl")]
    public static unsafe partial int EpollCtl(int epfd, int op, int fd, byte* eventData);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "epoll_wait")]
    public static unsafe partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "eventfd")]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "accept4")]
    public static unsafe partial int Accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "recv")]
    public static unsafe partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "send")]
    public static unsafe partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "read")]
    public static unsafe partial nint Read(int fd, byte* buffer, nint length);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "write")]
    public static unsafe partial nint Write(int fd, byte* buffer, nint length);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "shutdown")]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "setsockopt")]
    public static unsafe partial int SetSockOpt(int fd, int level, int name, int* value, int length);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "getpeername")]
    public static unsafe partial int GetPeerName(int fd, byte* address, int* length);

    [LibraryImport("libc", SetLastError = true, EntryPoint = "getsockname")]
    public static unsafe partial int GetSockName(int fd, byte* address, int* length);

    /// <summary>Registers, changes or removes interest in <paramref name="fd"/>; data carries the fd back.</summary>
    public static unsafe int Control(int epfd, int op, int fd, uint events)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = (ulong)fd;
        return EpollCtl(epfd, op, fd, ev);
    }

    /// <summary>Sets an integer socket option.</summary>
    public static unsafe void SetOption(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int));

    /// <summary>"ip:port" (IPv6 in brackets) or a unix socket path, of the peer or the local end.</summary>
    public static unsafe string FormatAddress(int fd, bool peer)
    {
        var buffer = stackalloc byte[128];
        var length = 128;
        var rc = peer ? GetPeerName(fd, buffer, &length) : GetSockName(fd, buffer, &length);
        if (rc != 0)
        {
            return "?:0";
        }
        var family = *(ushort*)buffer;
        var port = (buffer[2] << 8) | buffer[3];
        switch (family)
        {
            case AfInet:
                return $"{buffer[4]}.{buffer[5]}.{buffer[6]}.{buffer[7]}:{port}";
            case AfInet6:
                var ip = new System.Net.IPAddress(new ReadOnlySpan<byte>(buffer + 8, 16));
                var text = ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4().ToString() : ip.ToString();
                return ip.IsIPv4MappedToIPv6 ? $"{text}:{port}" : $"[{text}]:{port}";
            case AfUnix:
                var path = new ReadOnlySpan<byte>(buffer + 2, Math.Max(0, length - 2));
                var nul = path.IndexOf((byte)0);
                return System.Text.Encoding.UTF8.GetString(nul >= 0 ? path[..nul] : path) + ":0";
            default:
                return "?:0";
        }
    }
}
