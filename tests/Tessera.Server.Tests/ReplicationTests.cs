using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Tessera as the master of redis-server 7.0 replicas: PSYNC's full resynchronization hands over a snapshot,
/// then every write streams, rewritten where Redis rewrites it, so the replicas end with the master's digest.
/// </summary>
public sealed class ReplicationTests
{
    [Fact]
    public void Redis_replicas_of_a_tessera_master_get_the_snapshot_then_every_write()
    {
        // A snapshot file (disk-based sync) for both; the diskless transfer is covered by ReplicationFaultTests.
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync", "no");
        using var client = master.Connect();
        DebugEnabledServers.FillEveryEncoding(client);
        client.Call("DEBUG", "POPULATE", "20000");
        var port = master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var first = new RedisServerProcess("--replicaof", "127.0.0.1", port, "--enable-debug-command", "yes");
        using var second = new RedisServerProcess("--replicaof", "127.0.0.1", port, "--enable-debug-command", "yes");
        using var replicaOne = first.Connect();
        using var replicaTwo = second.Connect();
        Assert.True(WaitForLink(replicaOne) && WaitForLink(replicaTwo));
        Assert.True(client.WaitForInfo("replication", "connected_slaves", 2));

        RunRandomCommands(client, seed: 20261202, batches: 200);
        client.Call("SELECT", "9");
        client.Call("SET", "in-db-9", "x");
        client.Call("EVAL", "redis.call('SADD', KEYS[1], 'a', 'b', 'c'); return redis.call('SPOP', KEYS[1])", "1", "scripted");

        var digest = client.Call("DEBUG", "DIGEST").Text;
        Assert.True(WaitForDigest(replicaOne, digest!), "first replica diverged: " + Differences(client, replicaOne));
        Assert.True(WaitForDigest(replicaTwo, digest!), "second replica diverged: " + Differences(client, replicaTwo));
        // WAIT: both replicas acknowledge the last write; asking for a third waits out its timeout.
        client.Call("SET", "acknowledged", "yes");
        Assert.Equal(2, client.Call("WAIT", "2", "5000").Integer);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(2, client.Call("WAIT", "3", "300").Integer);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 5000);
        Assert.Equal("ERR timeout is negative", client.Call("WAIT", "1", "-1").Text);
        var role = client.Call("ROLE");
        Assert.Equal("master", role.Items[0].Text);
        Assert.Equal(2, role.Items[2].Items.Count);
        Assert.Contains("state=online", client.Call("INFO", "replication").Text, StringComparison.Ordinal);
    }

    /// <summary>
    /// Redis's "Test selective replication of certain Redis commands from Lua": redis.set_repl decides where each
    /// of the script's commands goes, so the replica, the AOF (read back by DEBUG LOADAOF) and the master's own
    /// dataset end up different, as in Redis.
    /// </summary>
    [Fact]
    public void A_script_sends_each_command_where_redis_set_repl_says()
    {
        using var master = new TesseraNode("--enable-debug-command", "yes", "--appendonly", "yes", "--aof-use-rdb-preamble", "no");
        using var client = master.Connect();
        var port = master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var redis = new RedisServerProcess("--replicaof", "127.0.0.1", port);
        using var replica = redis.Connect();
        Assert.True(WaitForLink(replica));
        Assert.Null(client.Call("EVAL", """
            redis.call('set','a','1');
            redis.set_repl(redis.REPL_NONE);
            redis.call('set','b','2');
            redis.set_repl(redis.REPL_AOF);
            redis.call('set','c','3');
            redis.set_repl(redis.REPL_ALL);
            redis.call('set','d','4');
            """, "0").Text);
        Assert.StartsWith("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: ",
            client.Call("EVAL", "redis.set_repl(12345)", "0").Text);
        Assert.True(SpinWait.SpinUntil(() => Values(replica) == "1,,,4", 5000), "replica: " + Values(replica));
        Assert.Equal("1,2,3,4", Values(client));
        Assert.Equal("OK", client.Call("DEBUG", "LOADAOF").Text);
        Assert.Equal("1,,3,4", Values(client));
    }

    private static string Values(RespClient client) => string.Join(',', client.Call("MGET", "a", "b", "c", "d").Items.Select(v => v.Text));

    [Fact]
    public void A_replica_that_lost_its_link_continues_from_the_backlog()
    {
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        using var client = master.Connect();
        client.Call("DEBUG", "POPULATE", "1000");
        var port = master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var redis = new RedisServerProcess("--replicaof", "127.0.0.1", port, "--enable-debug-command", "yes");
        using var replica = redis.Connect();
        Assert.True(WaitForLink(replica));
        client.Call("SET", "before", "1");
        Assert.Equal(1, client.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
        // Written while the replica is away: it gets them from the backlog when it reconnects.
        client.Call("RPUSH", "while-away", "a", "b");
        client.Call("SELECT", "4");
        client.Call("INCRBYFLOAT", "in-db-4", "1.5");
        Assert.True(client.WaitForInfo("stats", "sync_partial_ok", 1));
        Assert.Equal(1, client.InfoField("stats", "sync_full"));
        Assert.True(WaitForDigest(replica, client.Call("DEBUG", "DIGEST").Text!));
        Assert.Equal(1, client.InfoField("replication", "repl_backlog_active"));
    }

    [Fact]
    public void A_replica_that_stops_reading_is_disconnected_at_its_output_buffer_limit()
    {
        using var master = new TesseraNode("--client-output-buffer-limit", "replica 4mb 0 0");
        using var client = master.Connect();
        using var stalled = master.Connect();
        stalled.Send("PSYNC", "?", "-1");
        Assert.True(client.WaitForInfo("replication", "connected_slaves", 1));
        // The stalled replica never reads: its stream piles up until the hard limit closes it.
        var value = new string('v', 100_000);
        for (var i = 0; i < 400 && client.InfoField("replication", "connected_slaves") == 1; i++)
        {
            client.Call("SET", "big:" + (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }
        Assert.True(client.WaitForInfo("replication", "connected_slaves", 0));
        Assert.True(stalled.IsClosedByServer());
    }

    [Fact]
    public void A_tessera_replica_of_redis_syncs_streams_continues_and_can_be_promoted()
    {
        // redis-server's default diskless transfer ($EOF: framing), without its 5 s wait for more replicas.
        using var redis = new RedisServerProcess("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        using var master = redis.Connect();
        DebugEnabledServers.FillEveryEncoding(master);
        master.Call("DEBUG", "POPULATE", "5000");
        using var node = new TesseraNode("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var replica = node.Connect();
        Assert.True(WaitForLink(replica));
        RunRandomCommands(master, seed: 7, batches: 50);
        Assert.Equal(1, master.Call("WAIT", "1", "5000").Integer);
        Assert.True(WaitForDigest(replica, master.Call("DEBUG", "DIGEST").Text!), "diverged: " + Differences(master, replica));
        Assert.Equal("READONLY You can't write against a read only replica.", replica.Call("SET", "k", "v").Text);
        Assert.Equal("slave", replica.Call("ROLE").Items[0].Text);

        // A lost link continues from the master's backlog.
        Assert.Equal(1, master.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
        master.Call("SET", "during-gap", "1");
        Assert.True(master.WaitForInfo("stats", "sync_partial_ok", 1));
        Assert.True(WaitForDigest(replica, master.Call("DEBUG", "DIGEST").Text!));

        Assert.Equal("OK", replica.Call("REPLICAOF", "NO", "ONE").Text);
        Assert.Equal("OK", replica.Call("SET", "k", "v").Text);
        Assert.Equal("master", replica.Call("ROLE").Items[0].Text);
    }

    [Fact]
    public void A_tessera_replica_of_a_tessera_master_gets_every_write()
    {
        using var master = new TesseraNode("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        using var client = master.Connect();
        DebugEnabledServers.FillEveryEncoding(client);
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var replica = node.Connect();
        Assert.Equal("OK", replica.Call("REPLICAOF", "127.0.0.1", master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Text);
        Assert.True(WaitForLink(replica));
        RunRandomCommands(client, seed: 11, batches: 50);
        Assert.Equal(1, client.Call("WAIT", "1", "5000").Integer);
        Assert.True(WaitForDigest(replica, client.Call("DEBUG", "DIGEST").Text!), "diverged: " + Differences(client, replica));
    }

    [Fact]
    public void A_chain_replicates_and_a_promoted_replica_lets_the_others_continue()
    {
        using var redis = new RedisServerProcess("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0");
        using var master = redis.Connect();
        DebugEnabledServers.FillEveryEncoding(master);
        var masterPort = redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // redis-server -> Tessera -> redis-server, and a second redis-server replica of the top master.
        using var middle = new TesseraNode("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", masterPort, "--repl-diskless-sync-delay", "0");
        using var middleClient = middle.Connect();
        Assert.True(WaitForLink(middleClient));
        using var end = new RedisServerProcess("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", middle.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var endClient = end.Connect();
        using var sibling = new RedisServerProcess("--enable-debug-command", "yes", "--replicaof", "127.0.0.1", masterPort);
        using var siblingClient = sibling.Connect();
        Assert.True(WaitForLink(endClient) && WaitForLink(siblingClient));
        RunRandomCommands(master, seed: 3, batches: 30);
        var digest = master.Call("DEBUG", "DIGEST").Text!;
        Assert.True(WaitForDigest(middleClient, digest) && WaitForDigest(endClient, digest) && WaitForDigest(siblingClient, digest));
        Assert.Equal(master.InfoField("replication", "master_repl_offset"), middleClient.InfoField("replication", "master_repl_offset"));

        // Promote the Tessera replica and point the sibling at it: it continues under the old id (replid2).
        Assert.Equal("OK", middleClient.Call("REPLICAOF", "NO", "ONE").Text);
        Assert.Equal("OK", siblingClient.Call("REPLICAOF", "127.0.0.1", middle.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Text);
        Assert.True(middleClient.WaitForInfo("stats", "sync_partial_ok", 2));
        middleClient.Call("SET", "after-promotion", "1");
        Assert.Equal(2, middleClient.Call("WAIT", "2", "5000").Integer);
        digest = middleClient.Call("DEBUG", "DIGEST").Text!;
        Assert.True(WaitForDigest(siblingClient, digest) && WaitForDigest(endClient, digest));
    }

    [Fact]
    public void Client_unblock_ends_a_wait_with_the_replicas_acknowledged_so_far()
    {
        using var master = new TesseraNode("--repl-diskless-sync-delay", "0");
        using var redis = new RedisServerProcess("--replicaof", "127.0.0.1", master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var replica = redis.Connect();
        Assert.True(WaitForLink(replica));
        using var waiter = master.Connect();
        using var admin = master.Connect();
        var id = waiter.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
        waiter.Call("SET", "k", "v");
        // The replica has acknowledged everything (ROLE's offsets agree) before the WAIT that cannot be satisfied.
        for (var i = 0; i < 500; i++)
        {
            var role = admin.Call("ROLE");
            if (role.Items[2].Items.Count == 1 && role.Items[2].Items[0].Items[2].Text == role.Items[1].Integer.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                break;
            }
            Thread.Sleep(10);
        }
        waiter.Send("WAIT", "5", "0");
        Assert.True(admin.WaitForInfo("clients", "blocked_clients", 1));
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id).Integer);
        Assert.Equal(1, waiter.Read().Integer);
        waiter.Send("WAIT", "5", "0");
        Assert.True(admin.WaitForInfo("clients", "blocked_clients", 1));
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id, "ERROR").Integer);
        Assert.Equal("UNBLOCKED client unblocked via CLIENT UNBLOCK", waiter.Read().Text);
        Assert.Equal(0, admin.Call("CLIENT", "UNBLOCK", id).Integer);
    }

    /// <summary>Random commands of every family, errors and transactions included, pipelined in batches of 100.</summary>
    internal static void RunRandomCommands(RespClient client, int seed, int batches)
    {
        var generator = new CommandGenerator(new Random(seed));
        for (var batch = 0; batch < batches; batch++)
        {
            for (var i = 0; i < 100; i++)
            {
                client.Send(generator.Next().Args);
            }
            for (var i = 0; i < 100; i++)
            {
                client.ReadRaw();
            }
        }
        if (generator.InMulti)
        {
            client.Call("EXEC");
        }
    }

    /// <summary>The keys of database 0 whose values differ, for the failure message.</summary>
    internal static string Differences(RespClient master, RespClient replica)
    {
        master.Call("SELECT", "0");
        var keys = master.Call("KEYS", "*").Items.Select(k => k.Text!).Union(replica.Call("KEYS", "*").Items.Select(k => k.Text!));
        return string.Join(", ", keys.Where(k => master.Call("DEBUG", "DIGEST-VALUE", k).Items[0].Text != replica.Call("DEBUG", "DIGEST-VALUE", k).Items[0].Text)
            .Select(k => $"{k}: master {master.Call("TYPE", k).Text} {master.Call("DUMP", k).Text?.Length}, replica {replica.Call("TYPE", k).Text} {replica.Call("DUMP", k).Text?.Length}"));
    }

    internal static bool WaitForLink(RespClient replica)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (replica.Call("INFO", "replication").Text!.Contains("master_link_status:up", StringComparison.Ordinal))
            {
                return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }

    internal static bool WaitForDigest(RespClient replica, string digest)
    {
        for (var i = 0; i < 250; i++)
        {
            if (replica.Call("DEBUG", "DIGEST").Text == digest)
            {
                return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }
}
