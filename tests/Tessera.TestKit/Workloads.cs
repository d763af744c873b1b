using System.Net.Sockets;

namespace Tessera.TestKit;

/// <summary>Writers that tests run against a node while something happens to it.</summary>
public static class Workloads
{
    /// <summary>INCR counter until the node refuses (it became a replica); returns the writes acknowledged.</summary>
    public static long IncrementUntilRefused(int port, CancellationToken stop)
    {
        using var client = new RespClient(port);
        long acknowledged = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var reply = client.Call("INCR", "counter");
                if (reply.Text?.StartsWith("READONLY", StringComparison.Ordinal) == true)
                {
                    return acknowledged;
                }
                acknowledged = reply.Integer;
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
        }
        return acknowledged;
    }
}
