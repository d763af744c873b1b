using System.Diagnostics;
using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>MULTI/EXEC and WATCH under concurrency, beyond the oracle script: atomicity and optimistic locking.</summary>
public class TransactionTests
{
    [Fact]
    public void Optimistic_increments_from_many_clients_lose_no_update()
    {
        using var node = new TesseraNode();
        using var setup = node.Connect();
        setup.Call("SET", "counter", "0");
        const int clients = 12;
        const int incrementsEach = 40;
        var deadline = Stopwatch.StartNew();
        var conflicts = 0;
        // Threads of their own released together (the thread pool, busy under CI load, ran the clients one after another).
        using var start = new Barrier(clients);
        var threads = Enumerable.Range(0, clients).Select(_ => new Thread(() =>
        {
            using var client = node.Connect();
            start.SignalAndWait();
            for (var done = 0; done < incrementsEach && deadline.Elapsed < TimeSpan.FromSeconds(60);)
            {
                // Read, compute and write under WATCH: EXEC fails (null) when another client wrote in between.
                client.Call("WATCH", "counter");
                var value = long.Parse(client.Call("GET", "counter").Text!, CultureInfo.InvariantCulture);
                client.Call("MULTI");
                client.Call("SET", "counter", (value + 1).ToString(CultureInfo.InvariantCulture));
                if (client.Call("EXEC").IsNull)
                {
                    Interlocked.Increment(ref conflicts);
                }
                else
                {
                    done++;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(clients * incrementsEach, long.Parse(setup.Call("GET", "counter").Text!, CultureInfo.InvariantCulture));
        Assert.True(conflicts > 0, "the clients never raced, so the test proved nothing");
    }

    [Fact]
    public void No_command_of_another_client_runs_inside_an_exec()
    {
        using var node = new TesseraNode();
        using var writer = node.Connect();
        using var reader = node.Connect();
        writer.Call("MULTI");
        for (var i = 0; i < 2000; i++)
        {
            writer.Call("RPUSH", "list", "a");
        }
        writer.Call("DEL", "list");
        writer.Send("EXEC");
        // While EXEC runs, the list either does not exist yet or is already gone: never partly built.
        var observed = new List<long>();
        for (var i = 0; i < 200; i++)
        {
            observed.Add(reader.Call("LLEN", "list").Integer);
        }
        Assert.Equal(2001, writer.Read().Items.Count);
        Assert.All(observed, length => Assert.Equal(0, length));
    }

    [Fact]
    public void A_disconnected_client_stops_watching_and_its_transaction_is_gone()
    {
        using var node = new TesseraNode();
        using var admin = node.Connect();
        using (var gone = node.Connect())
        {
            gone.Call("WATCH", "k");
            gone.Call("MULTI");
            gone.Call("SET", "k", "queued");
        }
        admin.Call("SET", "k", "v");
        Assert.Equal("v", admin.Call("GET", "k").Text);
        Assert.DoesNotContain("flags=x", admin.Call("CLIENT", "LIST").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_list_shows_the_transaction_and_a_broken_watch()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        using var other = node.Connect();
        var id = client.Call("CLIENT", "ID").Integer.ToString(CultureInfo.InvariantCulture);
        client.Call("WATCH", "k");
        other.Call("SET", "k", "1");
        client.Call("MULTI");
        client.Call("GET", "k");
        client.Call("GET", "k");
        var info = client.Call("CLIENT", "INFO");
        Assert.Equal("QUEUED", info.Text);
        var line = other.Call("CLIENT", "LIST", "ID", id).Text!;
        Assert.Contains("flags=xd ", line, StringComparison.Ordinal);
        Assert.Contains(" multi=3 ", line, StringComparison.Ordinal);
        Assert.True(client.Call("EXEC").IsNull);
    }
}
