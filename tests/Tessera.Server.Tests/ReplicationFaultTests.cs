using System.Globalization;
using Tessera.TestKit;
using Xunit;
using static Tessera.Server.Tests.ReplicationTests;

namespace Tessera.Server.Tests;

/// <summary>
/// Replication under load and faults: many writes to two replicas at once, replicas and masters killed and
/// restarted, a hung replica, the coordinated FAILOVER, and the guards (min-replicas-to-write,
/// replica-serve-stale-data) that decide what clients see meanwhile.
/// </summary>
public sealed class ReplicationFaultTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tessera-repl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string PortOf(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void A_master_and_two_replicas_agree_after_100000_mixed_writes()
    {
        // Both replicas share one diskless transfer, started as soon as both asked.
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync-max-replicas", "2", "--repl-backlog-size", "64mb");
        using var client = master.Connect();
        DebugEnabledServers.FillEveryEncoding(client);
        client.Call("DEBUG", "POPULATE", "50000");
        using var tessera = new TesseraNode("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port));
        using var redis = new RedisServerProcess("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port));
        using var first = tessera.Connect();
        using var second = redis.Connect();
        Assert.True(WaitForLink(first) && WaitForLink(second));

        // 100,000 commands of every family (errors and transactions among them), pipelined, while both stream.
        RunRandomCommands(client, seed: 100_000, batches: 1000);
        Assert.Equal(2, client.Call("WAIT", "2", "10000").Integer);
        var digest = client.Call("DEBUG", "DIGEST").Text!;
        Assert.True(WaitForDigest(first, digest), "the Tessera replica diverged: " + Differences(client, first));
        Assert.True(WaitForDigest(second, digest), "the redis-server replica diverged: " + Differences(client, second));
    }

    [Fact]
    public void A_killed_replica_restarts_and_continues_with_a_partial_resync()
    {
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0", "--repl-backlog-size", "64mb");
        using var client = master.Connect();
        client.Call("DEBUG", "POPULATE", "20000");
        using var replica = new TesseraProcess(_directory, "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port));
        replica.WaitUntilReady();
        using (var link = replica.Connect())
        {
            Assert.True(WaitForLink(link));
        }

        using var writing = new CancellationTokenSource();
        long written = 0;
        var writer = new Thread(() => written = WriteUntilCancelled(master.Port, writing.Token));
        writer.Start();
        Thread.Sleep(300);
        replica.Kill();
        Thread.Sleep(300);
        replica.Restart();
        replica.WaitUntilReady();
        using var restarted = replica.Connect();
        Assert.True(WaitForLink(restarted));
        Thread.Sleep(200);
        writing.Cancel();
        writer.Join();
        Assert.True(written > 0);

        // The restarted replica loaded the snapshot it had received and asked to continue from its position.
        Assert.Equal(1, client.InfoField("stats", "sync_full"));
        Assert.Equal(1, client.InfoField("stats", "sync_partial_ok"));
        Assert.Equal(1, client.Call("WAIT", "1", "10000").Integer);
        Assert.True(WaitForDigest(restarted, client.Call("DEBUG", "DIGEST").Text!), "diverged: " + Differences(client, restarted));
    }

    [Fact]
    public void A_replica_reconnects_to_a_restarted_master_and_resyncs()
    {
        using var master = new TesseraProcess(_directory, "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        master.WaitUntilReady();
        using var node = new TesseraNode("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port), "--replica-serve-stale-data", "no");
        using var replica = node.Connect();
        Assert.True(WaitForLink(replica));
        using (var client = master.Connect())
        {
            client.Call("SET", "saved", "1");
            client.Call("SAVE");
            client.Call("SET", "unsaved", "2");
            Assert.Equal(1, client.Call("WAIT", "1", "5000").Integer);
        }

        master.Kill();
        for (var i = 0; i < 500 && !replica.Call("INFO", "replication").Text!.Contains("master_link_status:down", StringComparison.Ordinal); i++)
        {
            Thread.Sleep(10);
        }
        // replica-serve-stale-data no: only commands flagged stale (INFO, not even PING) answer, as in redis-server.
        Assert.Equal("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", replica.Call("GET", "saved").Text);
        Assert.Equal("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", replica.Call("PING").Text);
        Assert.Contains("role:slave", replica.Call("INFO", "replication").Text!, StringComparison.Ordinal);

        // Restarted from a snapshot older than the replica's offset, the master cannot continue it: the replica
        // resynchronizes in full and, as with redis-server, follows the master back to what it saved.
        master.Restart();
        master.WaitUntilReady();
        Assert.True(WaitForLink(replica));
        using (var client = master.Connect())
        {
            Assert.True(client.WaitForInfo("stats", "sync_full", 1, timeoutMs: 10000));
            Assert.True(WaitForDigest(replica, client.Call("DEBUG", "DIGEST").Text!));
            Assert.Equal("1", replica.Call("GET", "saved").Text);
            Assert.Null(replica.Call("GET", "unsaved").Text);

            // Saved at the replica's very offset (a clean shutdown), the master's history continues: partial resync.
            client.Call("SET", "more", "3");
            Assert.Equal(1, client.Call("WAIT", "1", "5000").Integer);
            client.Call("SAVE");
            client.Send("SHUTDOWN", "NOSAVE");
        }
        master.Restart();
        master.WaitUntilReady();
        Assert.True(WaitForLink(replica));
        using (var client = master.Connect())
        {
            Assert.True(client.WaitForInfo("stats", "sync_partial_ok", 1, timeoutMs: 10000));
            Assert.Equal(0, client.InfoField("stats", "sync_full"));
            client.Call("SET", "third", "3");
            Assert.Equal(1, client.Call("WAIT", "1", "5000").Integer);
            Assert.True(WaitForDigest(replica, client.Call("DEBUG", "DIGEST").Text!));
        }
    }

    [Fact]
    public void Failover_to_a_replica_switches_roles_without_losing_acknowledged_writes()
    {
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        using var candidate = new TesseraNode("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port));
        using var redis = new RedisServerProcess("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", PortOf(master.Port));
        using var client = master.Connect();
        using var candidateClient = candidate.Connect();
        using var redisClient = redis.Connect();
        Assert.True(WaitForLink(candidateClient) && WaitForLink(redisClient));

        Assert.Equal("ERR FAILOVER target HOST and PORT is not a replica.", client.Call("FAILOVER", "TO", "127.0.0.1", "1").Text);
        using var writing = new CancellationTokenSource();
        long acknowledged = 0;
        var writer = new Thread(() => acknowledged = Workloads.IncrementUntilRefused(master.Port, writing.Token));
        writer.Start();
        Thread.Sleep(200);
        Assert.Equal("OK", client.Call("FAILOVER", "TO", "127.0.0.1", PortOf(candidate.Port)).Text);
        for (var i = 0; i < 500 && client.Call("INFO", "replication").Text!.Contains("master_failover_state:no-failover", StringComparison.Ordinal) is false; i++)
        {
            Thread.Sleep(10);
        }
        Assert.True(writer.Join(10_000), "writes were still accepted after the failover");

        Assert.Equal("slave", client.Call("ROLE").Items[0].Text);
        Assert.Equal("master", candidateClient.Call("ROLE").Items[0].Text);
        Assert.Equal(acknowledged, long.Parse(candidateClient.Call("GET", "counter").Text!, CultureInfo.InvariantCulture));
        // The old master continued the new one's stream (no full sync), and the redis-server replica followed.
        Assert.Equal(0, candidateClient.InfoField("stats", "sync_full"));
        Assert.True(candidateClient.InfoField("stats", "sync_partial_ok") >= 1);
        candidateClient.Call("SET", "after-failover", "1");
        var digest = candidateClient.Call("DEBUG", "DIGEST").Text!;
        Assert.True(WaitForDigest(client, digest) && WaitForDigest(redisClient, digest));
    }

    [Fact]
    public void Failover_aborts_when_the_replica_cannot_catch_up_and_writes_resume()
    {
        using var master = new TesseraNode("--repl-diskless-sync-delay", "0");
        using var redis = new RedisServerProcess("--replicaof", "127.0.0.1", PortOf(master.Port));
        using var client = master.Connect();
        using (var replica = redis.Connect())
        {
            Assert.True(WaitForLink(replica));
        }
        redis.Stop();
        try
        {
            client.Call("SET", "unacknowledged", "1");
            Assert.Equal("OK", client.Call("FAILOVER", "TO", "127.0.0.1", PortOf(redis.Port), "TIMEOUT", "300").Text);
            Assert.Equal("ERR FAILOVER already in progress.", client.Call("FAILOVER").Text);
            using var writer = master.Connect();
            writer.Send("SET", "held", "1");
            Assert.Contains("master_failover_state:waiting-for-sync", client.Call("INFO", "replication").Text!, StringComparison.Ordinal);
            // The write waits out the failover's pause, then runs on the master that stayed one.
            Assert.Equal("OK", writer.Read().Text);
            Assert.Contains("master_failover_state:no-failover", client.Call("INFO", "replication").Text!, StringComparison.Ordinal);
            Assert.Equal("master", client.Call("ROLE").Items[0].Text);
            Assert.Equal("ERR No failover in progress.", client.Call("FAILOVER", "ABORT").Text);
        }
        finally
        {
            redis.Continue();
        }
    }

    [Fact]
    public void Min_replicas_to_write_refuses_writes_while_the_replica_hangs()
    {
        using var master = new TesseraNode("--repl-diskless-sync-delay", "0", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "1");
        using var client = master.Connect();
        Assert.Equal("NOREPLICAS Not enough good replicas to write.", client.Call("SET", "k", "v").Text);
        using var redis = new RedisServerProcess("--replicaof", "127.0.0.1", PortOf(master.Port));
        Assert.True(client.WaitForInfo("replication", "min_slaves_good_slaves", 1, timeoutMs: 10000));
        Assert.Equal("OK", client.Call("SET", "k", "v").Text);

        redis.Stop();
        try
        {
            // Its acknowledgements stop; after the allowed lag it no longer counts.
            Assert.True(client.WaitForInfo("replication", "min_slaves_good_slaves", 0, timeoutMs: 10000));
            Assert.Equal("NOREPLICAS Not enough good replicas to write.", client.Call("SET", "k", "v2").Text);
            Assert.Equal("v", client.Call("GET", "k").Text);
        }
        finally
        {
            redis.Continue();
        }
        Assert.True(client.WaitForInfo("replication", "min_slaves_good_slaves", 1, timeoutMs: 10000));
        Assert.Equal("OK", client.Call("SET", "k", "v3").Text);
    }

    /// <summary>Pipelined writes of several types until cancelled or the connection drops; returns the batches written.</summary>
    private static long WriteUntilCancelled(int port, CancellationToken stop)
    {
        using var client = new RespClient(port);
        long batches = 0;
        for (var i = 0L; !stop.IsCancellationRequested; i++)
        {
            var key = (i % 1000).ToString(CultureInfo.InvariantCulture);
            client.Send("INCR", "n:" + key);
            client.Send("RPUSH", "l:" + key, "x");
            client.Send("HSET", "h:" + key, "f" + (i % 7).ToString(CultureInfo.InvariantCulture), "v");
            client.Send("ZADD", "z:" + key, (i % 13).ToString(CultureInfo.InvariantCulture), "m" + (i % 5).ToString(CultureInfo.InvariantCulture));
            for (var r = 0; r < 4; r++)
            {
                client.Read();
            }
            batches++;
        }
        return batches;
    }
}
