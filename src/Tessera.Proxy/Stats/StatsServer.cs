using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Proxy.Pools;

namespace Tessera.Proxy.Stats;

/// <summary>
/// nutcracker's stats port: every connection gets one JSON document and is closed. The shape is nutcracker 0.5.0's
/// (service, source, version, uptime, timestamp, total/curr connections, then per pool its counters and per server
/// its counters) so existing collectors keep working; each server also carries a <c>latency_us</c> histogram.
/// </summary>
public sealed class StatsServer : IDisposable
{
    private readonly ProxyServer _proxy;
    private readonly Socket _listener;
    private readonly Thread _thread;

    public StatsServer(ProxyServer proxy, string address, int port)
    {
        _proxy = proxy;
        _listener = Listener.BindTcp(IPAddress.Parse(address), port, 64);
        _thread = GuardedThread.Start("tessera-proxy-stats", Serve, e => ProxyLog.Warning($"stats port stopped: {e}"));
    }

    /// <summary>The bound port.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    private void Serve()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    client.Send(Render(_proxy));
                    client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The collector went away; nothing to report to.
                }
            }
        }
    }

    /// <summary>The stats document as of now.</summary>
    public static byte[] Render(ProxyServer proxy)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            var now = DateTimeOffset.UtcNow;
            json.WriteStartObject();
            json.WriteString("service", "nutcracker");
            json.WriteString("source", Environment.MachineName);
            json.WriteString("version", "0.5.0");
            json.WriteNumber("uptime", (long)(now - proxy.StartedAt).TotalSeconds);
            json.WriteNumber("timestamp", now.ToUnixTimeSeconds());
            json.WriteNumber("total_connections", Volatile.Read(ref proxy.TotalConnections));
            json.WriteNumber("curr_connections", proxy.Pools.Sum(pool => Volatile.Read(ref pool.ClientCount)));
            foreach (var pool in proxy.Pools)
            {
                WritePool(json, pool);
            }
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WritePool(Utf8JsonWriter json, ServerPool pool)
    {
        var stats = pool.Stats;
        json.WriteStartObject(pool.Name);
        json.WriteNumber("client_eof", Volatile.Read(ref stats.ClientEof));
        json.WriteNumber("client_err", Volatile.Read(ref stats.ClientErr));
        json.WriteNumber("client_connections", Volatile.Read(ref pool.ClientCount));
        json.WriteNumber("server_ejects", Volatile.Read(ref stats.ServerEjects));
        json.WriteNumber("forward_error", Volatile.Read(ref stats.ForwardError));
        json.WriteNumber("fragments", Volatile.Read(ref stats.Fragments));
        foreach (var backend in pool.Backends)
        {
            var s = backend.Stats;
            json.WriteStartObject(backend.Config.Name);
            json.WriteNumber("server_eof", Volatile.Read(ref s.ServerEof));
            json.WriteNumber("server_err", Volatile.Read(ref s.ServerErr));
            json.WriteNumber("server_timedout", Volatile.Read(ref s.ServerTimedout));
            json.WriteNumber("server_connections", Volatile.Read(ref s.ServerConnections));
            json.WriteNumber("server_ejected_at", backend.EjectedAt * 1_000_000);
            json.WriteNumber("requests", Volatile.Read(ref s.Requests));
            json.WriteNumber("request_bytes", Volatile.Read(ref s.RequestBytes));
            json.WriteNumber("responses", Volatile.Read(ref s.Responses));
            json.WriteNumber("response_bytes", Volatile.Read(ref s.ResponseBytes));
            var waiting = Math.Max(0, Volatile.Read(ref s.Requests) - Volatile.Read(ref s.Responses));
            json.WriteNumber("in_queue", 0);
            json.WriteNumber("in_queue_bytes", 0);
            json.WriteNumber("out_queue", waiting);
            json.WriteNumber("out_queue_bytes", 0);
            json.WriteStartObject("latency_us");
            for (var b = 0; b < s.Latency.Length; b++)
            {
                var label = b < BackendStats.LatencyBucketsMicros.Length ? $"<{BackendStats.LatencyBucketsMicros[b]}" : $">={BackendStats.LatencyBucketsMicros[^1]}";
                json.WriteNumber(label, Volatile.Read(ref s.Latency[b]));
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    public void Dispose() => _listener.Dispose();
}
