using System.Net.Sockets;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Hostile clients: random bytes, clients that never read. The node keeps serving everyone else.</summary>
public class HostileInputTests
{
    [Fact]
    public void Random_bytes_from_many_connections_never_stop_the_node()
    {
        using var node = new TesseraNode();
        var random = new Random(42);
        for (var i = 0; i < 200; i++)
        {
            using var client = node.Connect();
            var garbage = new byte[random.Next(1, 4096)];
            random.NextBytes(garbage);
            // Bias some inputs towards protocol-looking prefixes.
            if (i % 3 == 0)
            {
                garbage[0] = (byte)'*';
            }
            try
            {
                client.SendRaw(garbage);
            }
            catch (SocketException)
            {
                // The node may close the connection mid-send after a protocol error.
            }
        }
        using var probe = node.Connect();
        Assert.Equal("PONG", probe.Call("PING").Text);
        Assert.Equal("OK", probe.Call("SET", "still", "here").Text);
    }

    [Fact]
    public void A_client_that_never_reads_its_replies_does_not_grow_memory_without_bound()
    {
        using var node = new TesseraNode();
        using var setup = node.Connect();
        setup.Send([.. new[] { "SET", "big" }.Select(System.Text.Encoding.ASCII.GetBytes), new byte[1024 * 1024]]);
        setup.Read();
        using var greedy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        greedy.ReceiveBufferSize = 64 * 1024;
        greedy.Connect("127.0.0.1", node.Port);
        greedy.Blocking = false;
        var request = RespClient.Encode("GET", "big");
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var sent = 0;
        // Send up to 2000 GETs of 1 MB (2 GB of replies) without reading any of them.
        while (sent < 2000 && DateTime.UtcNow < deadline)
        {
            try
            {
                greedy.Send(request);
                sent++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                Thread.Sleep(10);
            }
        }
        Thread.Sleep(500);
        using var probe = node.Connect();
        Assert.Equal("PONG", probe.Call("PING").Text);
        var used = long.Parse(System.Text.RegularExpressions.Regex.Match(probe.Call("INFO", "memory").Text!, @"mem_clients_normal:(\d+)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        // Backpressure stops the node from running commands whose replies cannot be sent.
        Assert.True(used < 64L * 1024 * 1024, $"client buffers grew to {used} bytes");
    }
}
