using System.Diagnostics;
using System.Globalization;
using Tessera.Client;

namespace Tessera.Cli.Operations;

/// <summary>What a move measured.</summary>
internal sealed record MoveReport(long Keys, TimeSpan SyncTime, TimeSpan WritePause);

/// <summary>
/// Moves a Redis or Tessera instance to another server without losing a write, as Redis's partitioning
/// documentation describes for presharding: the new instance replicates the old one until it has caught up,
/// writes on the old one are paused (CLIENT PAUSE WRITE) while the new one takes the last of the stream, the new
/// one is promoted (REPLICAOF NO ONE), and the old one becomes its replica, so a client still writing to it gets
/// -READONLY instead of writing into a copy nobody reads. Downtime is the pause: from the pause to the promotion.
/// </summary>
internal sealed class InstanceMove(RedisConnection from, RedisConnection to, TextWriter log)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(2);

    /// <summary>How long writes may stay paused before the move gives up and lets them resume on the old instance.</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the new instance may take to load the old one's data.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Password both instances ask for (also the new one's masterauth), or null.</summary>
    public string? Password { get; init; }

    public MoveReport Run()
    {
        var (fromHost, fromPort) = RedisConnection.ParseEndpoint(from.Endpoint);
        var (toHost, toPort) = RedisConnection.ParseEndpoint(to.Endpoint);
        if (from.Info("replication", "role") != "master")
        {
            throw new InvalidOperationException($"{from.Endpoint} is not a master; move its master instead.");
        }
        var alreadyReplica = to.Info("replication", "master_host") == fromHost && to.InfoNumber("replication", "master_port") == fromPort;
        if (!alreadyReplica && to.Execute("DBSIZE").Integer > 0)
        {
            throw new InvalidOperationException($"{to.Endpoint} holds keys; the move would replace them. Flush it first.");
        }

        var clock = Stopwatch.StartNew();
        if (!alreadyReplica)
        {
            if (Password is not null)
            {
                to.Execute("CONFIG", "SET", "masterauth", Password);
            }
            to.Execute("REPLICAOF", fromHost, fromPort.ToString(CultureInfo.InvariantCulture));
            log.WriteLine($"{to.Endpoint} replicates {from.Endpoint}; waiting for the full synchronization ...");
        }
        WaitFor(() => to.Info("replication", "master_link_status") == "up" && to.Info("replication", "master_sync_in_progress") == "0",
            SyncTimeout, "the synchronization did not finish in time");
        var syncTime = clock.Elapsed;
        var keys = to.Execute("DBSIZE").Integer;
        log.WriteLine($"Synchronized in {syncTime.TotalSeconds:F1} s ({keys} keys in db 0); behind by {Lag()} bytes.");

        // Catch up while writes still flow, so the pause only covers the last few bytes.
        WaitFor(() => Lag() < 1 << 20, SyncTimeout, "the replica does not catch up with the write rate");

        var paused = Stopwatch.StartNew();
        from.Execute("CLIENT", "PAUSE", ((long)MaxPause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), "WRITE");
        try
        {
            var offset = from.InfoNumber("replication", "master_repl_offset");
            WaitFor(() => to.InfoNumber("replication", "slave_repl_offset") >= offset, MaxPause / 2, "the replica did not catch up during the pause");
            to.Execute("REPLICAOF", "NO", "ONE");
        }
        catch
        {
            from.Call("CLIENT", "UNPAUSE");
            throw;
        }
        var pause = paused.Elapsed;
        // The old instance follows the new one (continuing its stream), so late writers get -READONLY.
        from.Execute("REPLICAOF", toHost, toPort.ToString(CultureInfo.InvariantCulture));
        from.Execute("CLIENT", "UNPAUSE");
        log.WriteLine($"Promoted {to.Endpoint} after a write pause of {pause.TotalMilliseconds:F1} ms; {from.Endpoint} is now its replica.");
        return new MoveReport(keys, syncTime, pause);
    }

    /// <summary>Bytes of the old instance's stream the new one has not processed yet.</summary>
    private long Lag() => Math.Max(0, from.InfoNumber("replication", "master_repl_offset") - to.InfoNumber("replication", "slave_repl_offset"));

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string failure) => Polling.WaitFor(condition, timeout, failure, Poll);
}
