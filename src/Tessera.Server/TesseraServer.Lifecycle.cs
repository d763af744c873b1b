using Tessera.Core.Threading;
using Tessera.Server.Logging;
using Tessera.Server.Networking;

namespace Tessera.Server;

public sealed partial class TesseraServer
{
    /// <summary>SIGTERM/SIGINT: logs like Redis and shuts down.</summary>
    public void RequestShutdownBySignal(string signal)
    {
        Log.SignalReceived(signal);
        var flags = (signal == "SIGINT" ? Config.ShutdownOnSigint : Config.ShutdownOnSigterm).Value.Split(' ');
        lock (ExecutionLock)
        {
            if (!SaveBeforeExit(flags.Contains("save"), flags.Contains("nosave"), flags.Contains("force")))
            {
                return;
            }
        }
        Shutdown();
    }

    /// <summary>
    /// Redis's prepareForShutdown: with save points configured (or SAVE asked) and not NOSAVE, the final snapshot
    /// is written; false when it failed and FORCE was not given, and the node keeps running.
    /// </summary>
    internal bool SaveBeforeExit(bool save, bool noSave, bool force)
    {
        if (noSave || (!save && Config.SavePoints.Count == 0))
        {
            return true;
        }
        Log.SavingFinalSnapshot();
        if (Snapshots.Save() || force)
        {
            return true;
        }
        Log.ShutdownSaveFailed();
        return false;
    }

    /// <summary>Completes when the server has shut down.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Binds the listeners and starts the event loops and the cron; throws when no listener could bind.</summary>
    public void Start()
    {
        Log.Starting(ServerOptions.Version, Environment.ProcessId);
        BindListeners();
        var loopCount = Math.Max(1, Environment.ProcessorCount);
        for (var i = 0; i < loopCount; i++)
        {
            var loop = new EventLoop(Clients, Config, Aof, Log, UnixSocketPathOf, i);
            foreach (var listener in _listeners)
            {
                loop.AddListener(listener.Fd);
            }
            _loops.Add(loop);
        }
        Config.Port.Changed = () => Rebind("Unable to listen on this port. Check server logs.");
        Config.Find("bind")!.Changed = () => Rebind("Failed to bind to specified addresses.");
        GC.Collect();
        // The process's footprint before any data (runtime, code, tables) counts towards used_memory, so maxmemory
        // bounds what the operating system sees (RSS), as capacity planning needs.
        BaselineMemory = Math.Max(GC.GetTotalMemory(forceFullCollection: false), Environment.WorkingSet);
        _baselineHeap = GC.GetTotalMemory(forceFullCollection: false);
        // Clients connecting from now until the data is in are answered -LOADING (see LoadingProgress).
        Loading.Begin(0);
        foreach (var loop in _loops)
        {
            loop.Start();
        }
        try
        {
            lock (ExecutionLock)
            {
                LoadDataFromDisk();
            }
        }
        catch
        {
            Shutdown();
            throw;
        }
        finally
        {
            Loading.End();
        }
        Config.AppendOnly.Changed = () =>
        {
            if (Config.AppendOnly.Value)
            {
                Aof.Enable();
            }
            else
            {
                Aof.Disable();
            }
        };
        if (Cluster is not null)
        {
            lock (ExecutionLock)
            {
                Cluster.Start();
            }
        }
        if (Config.ReplicaOf is { } master)
        {
            lock (ExecutionLock)
            {
                Replication.BecomeReplica(master.Host, master.Port, atStartUp: true);
            }
        }
        _cron = GuardedThread.Create("tessera-cron", RunCron, e => Log.BackgroundJobFailed(e, "cron"));
        _cron.Start();
        Log.Ready(string.Join(", ", _listeners.Select(l => l.Description)));
    }

    /// <summary>
    /// Redis's loadDataFromDisk: with <c>appendonly yes</c> the AOF is the source (and the snapshot is ignored),
    /// otherwise the RDB snapshot if there is one. A file that cannot be loaded stops start-up.
    /// </summary>
    private void LoadDataFromDisk()
    {
        try
        {
            if (Config.AppendOnly.Value)
            {
                Aof.Start();
            }
            else if (Snapshots.Load() && Snapshots.LastLoad.Replication is { } position)
            {
                Replication.RestorePosition(position, replica: Config.ReplicaOf is not null);
            }
        }
        catch (Persistence.Rdb.RdbFormatException e)
        {
            throw new IOException($"Bad RDB file {Snapshots.FilePath}: {e.Message} Unrecoverable error, aborting now.", e);
        }
        catch (Persistence.Aof.AofFormatException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    /// <summary>Stops serving: closes listeners and connections, ends the loops and the cron. Safe to call twice.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) != 0)
        {
            return;
        }
        // Whatever fails on the way down, the process still exits (a hung shutdown is worse than an untidy one).
        _ = Task.Run(() =>
        {
            try
            {
                StopServing();
            }
            catch (Exception e)
            {
                Log.BackgroundJobFailed(e, "shutdown");
            }
            finally
            {
                Log.Exiting();
                _stopped.TrySetResult();
            }
        });
    }

    /// <summary>Shutdown's work: listeners, cluster bus, loops, cron and pid file, in that order.</summary>
    private void StopServing()
    {
        _cronStop.Cancel();
        lock (ExecutionLock)
        {
            Aof.Flush();
        }
        foreach (var loop in _loops)
        {
            foreach (var listener in _listeners)
            {
                loop.RemoveListener(listener.Fd);
            }
        }
        lock (ExecutionLock)
        {
            Cluster?.Stop();
        }
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        foreach (var loop in _loops)
        {
            loop.Stop();
        }
        _cron?.Join();
        if (Config.PidFile.Value.Length > 0)
        {
            File.Delete(Config.PidFile.Value);
        }
    }

    public void Dispose()
    {
        // A script looping forever would otherwise hold the node, and this call, forever.
        ScriptsIfStarted?.Kill(force: true);
        Replication.Link?.Stop();
        Shutdown();
        Stopped.Wait();
        foreach (var save in new[] { Snapshots.Background, Aof.Rewrite })
        {
            save?.Cancel();
            save?.Wait();
        }
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }
        _cronStop.Dispose();
        Aof.Dispose();
        Blocking.Dispose();
        _scripts?.Dispose();
    }
}
