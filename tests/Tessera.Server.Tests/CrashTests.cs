using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Crash safety of the AOF: a node under write load is killed with SIGKILL at random moments and restarted on
/// its files, again and again. With appendfsync always no acknowledged write is ever missing; with everysec
/// at most the last two seconds may be; start-up never fails on whatever the kill left behind.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-crash-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("always", 20, 0)]
    [InlineData("everysec", 6, 2000)]
    public void Killing_the_node_under_load_keeps_every_acknowledged_write(string appendfsync, int kills, int toleratedLossMs)
    {
        using var node = new TesseraProcess(_directory, "--appendonly", "yes", "--appendfsync", appendfsync);
        var port = node.Port;
        var random = new Random();
        var acknowledged = new List<(long Ms, long Value)> { (0, 0) };
        var clock = Stopwatch.StartNew();
        for (var kill = 0; kill <= kills; kill++)
        {
            if (kill > 0)
            {
                node.Restart();
            }
            node.WaitUntilReady();
            using (var client = new RespClient(port))
            {
                var counter = long.Parse(client.Call("GET", "counter").Text ?? "0", CultureInfo.InvariantCulture);
                var killedAt = clock.ElapsedMilliseconds;
                var required = acknowledged.Last(a => a.Ms <= killedAt - toleratedLossMs || a.Ms == 0).Value;
                Assert.True(counter >= required, $"after kill {kill}: counter {counter}, but {required} was acknowledged");
                // The next round counts on from what survived.
                acknowledged.Add((clock.ElapsedMilliseconds, counter));
            }
            if (kill == kills)
            {
                break;
            }
            var writer = new Thread(() => Write(port, acknowledged, clock));
            writer.Start();
            Thread.Sleep(random.Next(50, 400));
            node.Kill();
            writer.Join();
        }
    }

    /// <summary>Pipelined INCRs until the connection drops, recording each acknowledged value with its time.</summary>
    private static void Write(int port, List<(long Ms, long Value)> acknowledged, Stopwatch clock)
    {
        try
        {
            using var client = new RespClient(port);
            while (true)
            {
                for (var i = 0; i < 16; i++)
                {
                    client.Send("INCR", "counter");
                }
                long last = 0;
                for (var i = 0; i < 16; i++)
                {
                    last = client.Read().Integer;
                }
                lock (acknowledged)
                {
                    acknowledged.Add((clock.ElapsedMilliseconds, last));
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException)
        {
            // The node was killed.
        }
    }
}
