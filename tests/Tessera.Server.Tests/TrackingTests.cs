using System.Diagnostics;
using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// CLIENT TRACKING with REDIRECT, which an oracle script cannot drive (the target's id differs per server): the
/// same scenario runs against redis-server and Tessera, client ids replaced by a placeholder, transcripts equal.
/// </summary>
public class TrackingTests
{
    [Fact]
    public void Redirected_invalidations_match_redis()
    {
        using var redis = new RedisServerProcess();
        using var tessera = new TesseraNode();
        Assert.Equal(Transcript(redis.Connect), Transcript(tessera.Connect));
    }

    private static List<string> Transcript(Func<RespClient> connect)
    {
        var lines = new List<string>();
        using var tracker = connect();
        using var writer = connect();
        var receiver = connect();
        var receiverId = receiver.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The receiver's id differs per server: it shows in the replies that report the redirection, and in REDIRECT.
        void Record(string what, byte[] reply)
        {
            var text = Encoding.UTF8.GetString(reply);
            foreach (var before in new[] { "redirect\r\n:", "tracking-redir-broken\r\n:" })
            {
                text = text.Replace(before + receiverId + "\r\n", before + "<id>\r\n", StringComparison.Ordinal);
            }
            if (what == "CLIENT GETREDIR")
            {
                text = text.Replace(":" + receiverId + "\r\n", ":<id>\r\n", StringComparison.Ordinal);
            }
            lines.Add(what + " -> " + text);
        }
        void Call(RespClient client, params string[] args)
            => Record(string.Join(' ', args.Select((arg, i) => i > 0 && args[i - 1] == "REDIRECT" ? "<id>" : arg)), client.CallRaw(args));

        // RESP2 redirection: messages on __redis__:invalidate to a subscribed receiver.
        Call(receiver, "SUBSCRIBE", "__redis__:invalidate");
        Call(tracker, "CLIENT", "TRACKING", "on", "REDIRECT", receiverId);
        Call(tracker, "CLIENT", "GETREDIR");
        Call(tracker, "CLIENT", "TRACKINGINFO");
        Call(tracker, "GET", "k1");
        Call(tracker, "MGET", "k2", "k3");
        Call(writer, "SET", "k1", "v");
        Call(writer, "MSET", "k2", "1", "k3", "1", "k4", "1");
        Record("receiver", receiver.ReadUntilPong());
        // NOLOOP: the tracker's own change is not sent; another client's is.
        Call(tracker, "CLIENT", "TRACKING", "on", "REDIRECT", receiverId, "NOLOOP");
        Call(tracker, "MGET", "n1", "n2");
        Call(tracker, "SET", "n1", "mine");
        Call(writer, "SET", "n2", "theirs");
        Record("receiver", receiver.ReadUntilPong());
        Call(tracker, "CLIENT", "TRACKING", "off");
        // BCAST redirected: the keys changed under the prefixes, gathered.
        Call(tracker, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b:", "REDIRECT", receiverId);
        Call(writer, "MSET", "b:1", "x", "b:2", "y", "c:3", "z");
        Record("receiver", receiver.ReadUntilPong());
        Call(tracker, "FLUSHALL");
        Record("receiver", receiver.ReadUntilPong());
        Call(tracker, "CLIENT", "TRACKING", "off");
        // The receiver goes: a RESP3 tracker is told once a key it cached changes.
        // HELLO's reply holds the tracker's own id.
        tracker.Call("HELLO", "3", "SETNAME", "tracker");
        Call(tracker, "CLIENT", "TRACKING", "on", "REDIRECT", receiverId);
        Call(tracker, "GET", "gone");
        receiver.Dispose();
        var clock = Stopwatch.StartNew();
        while (Encoding.UTF8.GetString(writer.CallBulk("CLIENT", "LIST")).Trim().Split('\n').Length > 2
            && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(10);
        }
        Call(writer, "SET", "gone", "v");
        Call(tracker, "PING");
        Call(tracker, "PING");
        Call(tracker, "CLIENT", "TRACKINGINFO");
        Record("tracker flags", Encoding.UTF8.GetBytes(Flags(writer)));
        return lines;
    }

    /// <summary>The flags= field of the client named "tracker" in CLIENT LIST.</summary>
    private static string Flags(RespClient client)
        => Encoding.UTF8.GetString(client.CallBulk("CLIENT", "LIST")).Split('\n')
            .First(line => line.Contains("name=tracker ", StringComparison.Ordinal))
            .Split(' ').First(field => field.StartsWith("flags=", StringComparison.Ordinal));
}
