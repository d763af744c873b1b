using Tessera.Core.Threading;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server;

public sealed partial class TesseraServer
{
    /// <summary>
    /// serverCron: hz times a second, under the execution lock, expires keys actively (at most a quarter of the
    /// period), ends timed-out pauses, closes idle clients, continues evictions and samples statistics.
    /// </summary>
    private void RunCron()
    {
        var token = _cronStop.Token;
        while (!token.IsCancellationRequested)
        {
            var period = TimeSpan.FromMilliseconds(1000.0 / Config.Hz.Value);
            token.WaitHandle.WaitOne(period);
            if (token.IsCancellationRequested)
            {
                return;
            }
            lock (ExecutionLock)
            {
                // One tick's failure is logged and the next tick runs: expiry, saves and replication keep going.
                GuardedThread.Run(() => CronTick(period), e => Log.BackgroundJobFailed(e, "cron"));
            }
        }
    }

    /// <summary>One run of the periodic work (Redis's serverCron), under the execution lock.</summary>
    private void CronTick(TimeSpan period)
    {
        if (Debug.PauseCron)
        {
            return;
        }
        Keyspace.UpdateClock();
        ClientPause.CheckTimeout();
        // As Redis: paused writes pause expiry too, so the stream (and the offset a FAILOVER or a move
        // waits for) stands still.
        if (!ClientPause.Active)
        {
            var elapsed = Keyspace.ActiveExpireCycle(period / 4);
            Latency.AddIfNeeded("expire-cycle", (long)elapsed.TotalMilliseconds);
        }
        Stats.Sample(NetInputBytes, NetOutputBytes);
        PeakMemory = Math.Max(PeakMemory, UsedMemory());
        Clients.ForgetDisconnected();
        CloseIdleClients();
        if (Tracking.Clients > 0)
        {
            // Keys expired by the cycle above reach BCAST clients now; the table keeps to its limit.
            Tracking.LimitKeys();
            Tracking.Broadcast();
        }
        if (Config.MaxMemory.Value > 0)
        {
            Evictor.FreeMemoryIfNeeded();
            CollectGarbageIfNeeded();
        }
        CompactWhenIdle();
        Snapshots.Cron();
        Aof.Cron();
        Replication.Cron();
        Cluster?.Cron();
        Aof.WaitDurable(Aof.WriteBuffered());
    }

    private void CloseIdleClients()
    {
        var timeout = Config.Timeout.Value * 1000;
        if (timeout <= 0)
        {
            return;
        }
        var now = Environment.TickCount64;
        foreach (var session in Clients.All)
        {
            if ((session.Flags & ClientFlags.Monitor) == 0 && now - session.LastInteractionMs > timeout)
            {
                Log.ClosingIdleClient(session.RemoteAddress);
                session.Transport?.Close();
            }
        }
    }
}
