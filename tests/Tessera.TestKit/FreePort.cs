using System.Net;
using System.Net.Sockets;

namespace Tessera.TestKit;

/// <summary>Free loopback TCP ports for servers started by tests.</summary>
public static class FreePort
{
    /// <summary>Cluster ports come from [First, Last): with their bus ports (+10000) below the kernel's ephemeral range.</summary>
    private const int First = 20000;
    private const int Last = 22700;

    private static int _next = First + Random.Shared.Next(Last - First);

    /// <summary>Other servers' ports come from [NextFirst, First), also below the ephemeral range (their +10000 too).</summary>
    private const int NextFirst = 12700;

    private static int _nextServer = NextFirst + Random.Shared.Next(First - NextFirst);

    /// <summary>
    /// A port nobody listens on right now, for a server a test starts. Not one of the kernel's ephemeral ports: a
    /// port asked of the kernel and released can be taken by the next outgoing connection (parallel tests make many)
    /// before the server binds it. Each call in this process gets a port no other call got.
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Interlocked.Increment(ref _nextServer);
            if (port >= First)
            {
                Interlocked.CompareExchange(ref _nextServer, NextFirst, port);
                continue;
            }
            if (IsFree(port))
            {
                return port;
            }
        }
        throw new InvalidOperationException("no free ports");
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports for cluster nodes, whose bus ports (port +
    /// 10000) are free too. The kernel's ephemeral ports (32768 and up) could put a bus port past 65535 or have it
    /// taken by an outgoing connection's local port; these stay below that range, and each call in this process
    /// gets ports no other call got.
    /// </summary>
    public static int ForCluster(int count = 1)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var first = Interlocked.Add(ref _next, count) - count;
            if (first + count > Last)
            {
                Interlocked.CompareExchange(ref _next, First, first + count);
                continue;
            }
            if (Enumerable.Range(first, count).All(p => IsFree(p) && IsFree(p + 10000)))
            {
                return first;
            }
        }
        throw new InvalidOperationException("no free cluster ports");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
