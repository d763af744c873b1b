using System.Diagnostics;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Pub/sub beyond the oracle script: many subscribers, and a subscriber that never reads.</summary>
public class PubSubTests
{
    [Fact]
    public void Every_subscriber_gets_every_message_in_order()
    {
        using var node = new TesseraNode();
        using var publisher = node.Connect();
        var subscribers = Enumerable.Range(0, 8).Select(_ => node.Connect()).ToList();
        try
        {
            foreach (var s in subscribers)
            {
                s.Call("SUBSCRIBE", "fanout");
            }
            for (var i = 0; i < 200; i++)
            {
                Assert.Equal(subscribers.Count, publisher.Call("PUBLISH", "fanout", "m" + i).Integer);
            }
            foreach (var s in subscribers)
            {
                for (var i = 0; i < 200; i++)
                {
                    Assert.Equal($"[message, fanout, m{i}]", s.Read().ToString());
                }
            }
        }
        finally
        {
            subscribers.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void A_subscriber_that_never_reads_is_disconnected_at_the_output_limit()
    {
        using var node = new TesseraNode();
        using var publisher = node.Connect();
        using var slow = node.Connect();
        publisher.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0");
        slow.Call("SUBSCRIBE", "firehose");
        var message = new string('x', 16 * 1024);
        var clock = Stopwatch.StartNew();
        // The socket buffers take some megabytes first; then the server's queue reaches the limit.
        for (var i = 0; i < 20_000 && clock.Elapsed < TimeSpan.FromSeconds(30); i++)
        {
            publisher.Call("PUBLISH", "firehose", message);
            if (i % 100 == 0 && publisher.Call("PUBSUB", "NUMSUB", "firehose").Items[1].Integer == 0)
            {
                break;
            }
        }
        Assert.Equal(0, publisher.Call("PUBSUB", "NUMSUB", "firehose").Items[1].Integer);
        Assert.Equal("PONG", publisher.Call("PING").Text);
    }
}
