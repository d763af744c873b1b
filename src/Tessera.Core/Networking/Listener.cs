using System.Net;
using System.Net.Sockets;

namespace Tessera.Core.Networking;

/// <summary>
/// A listening socket (TCP on one address, or a unix socket). Created with .NET's Socket for binding; the event
/// loops then accept on its descriptor directly.
/// </summary>
public sealed class Listener : IDisposable
{
    private readonly Socket _socket;

    private Listener(Socket socket, string description, string? unixPath)
    {
        _socket = socket;
        Description = description;
        UnixPath = unixPath;
        Fd = (int)socket.Handle;
    }

    public int Fd { get; }

    /// <summary>"127.0.0.1:6379" or the unix socket path, for logs.</summary>
    public string Description { get; }

    /// <summary>The path of a unix socket listener, else null.</summary>
    public string? UnixPath { get; }

    /// <summary>The bound port (useful when 0 was asked for).</summary>
    public int Port => (_socket.LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Binds a TCP listener like Redis: SO_REUSEADDR, IPV6_V6ONLY for IPv6 addresses.</summary>
    public static Listener Tcp(string address, int port, int backlog)
    {
        var ip = address == "*" ? IPAddress.Any : address == "::*" ? IPAddress.IPv6Any : IPAddress.Parse(address);
        var socket = BindTcp(ip, port, backlog);
        socket.Blocking = false;
        var bound = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        return new Listener(socket, $"{host}:{bound}", null);
    }

    /// <summary>
    /// A listening TCP socket bound as Redis binds every listener (client port, cluster bus, stats): with
    /// SO_REUSEADDR, so a process restarted at once binds again while its old connections sit in TIME_WAIT, and
    /// IPV6_V6ONLY for IPv6 addresses.
    /// </summary>
    public static Socket BindTcp(IPAddress ip, int port, int backlog)
    {
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // SO_REUSEADDR alone: .NET's ReuseAddress also sets SO_REUSEPORT on Linux, which would let a second
            // server bind a port already in use instead of failing as Redis does.
            Native.SetOption((int)socket.Handle, Native.SolSocket, Native.SoReuseAddr, 1);
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }
            socket.Bind(new IPEndPoint(ip, port));
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Binds a unix socket listener at <paramref name="path"/> with permissions <paramref name="permissions"/> (0 = default).</summary>
    public static Listener Unix(string path, int permissions, int backlog)
    {
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (permissions != 0)
            {
                File.SetUnixFileMode(path, (UnixFileMode)permissions);
            }
            socket.Listen(backlog);
            socket.Blocking = false;
            return new Listener(socket, path, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (UnixPath is not null)
        {
            File.Delete(UnixPath);
        }
    }
}
