using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Core.Networking;
using Tessera.Core.Threading;
using Tessera.Server.Commands;
using Tessera.Server.Config;
using Tessera.Server.Diagnostics;
using Tessera.Server.Logging;
using Tessera.Server.Networking;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server;

/// <summary>
/// A Tessera node: configuration, keyspace, command table, clients, the event loops that serve them and the
/// cron that runs background work (active expiry, pause timeouts, statistics). Commands run under
/// <see cref="ExecutionLock"/>, which gives Redis's atomicity: one command at a time touches the data.
/// </summary>
public sealed partial class TesseraServer : IDisposable
{
    private readonly List<Listener> _listeners = [];
    private readonly List<EventLoop> _loops = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cronStop = new();
    private Thread? _cron;
    private int _shutdownStarted;
    private long _baselineHeap;
    private long _lastCollectionMs;
    private Scripting.ScriptEngine? _scripts;
    private long _commandsAtLastCron;
    private long _lastActivityMs;
    private long _committedAfterIdleCompaction;
    private long _dirty;

    /// <summary>Creates a standalone node from configuration already loaded (see <see cref="ServerOptions"/>).</summary>
    public TesseraServer(ServerOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, cluster: null)
    {
    }

    /// <summary>
    /// Creates a node; with <c>cluster-enabled yes</c>, <paramref name="cluster"/> makes its cluster part
    /// (Tessera.Cluster's TesseraHost passes it).
    /// </summary>
    internal TesseraServer(ServerOptions options, ILoggerFactory? loggerFactory, Func<TesseraServer, Cluster.IClusterNode>? cluster)
    {
        Config = options.Config;
        ConfigFile = options.ConfigFile;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Log = LoggerFactory.CreateLogger("tessera");
        Keyspace = new Keyspace(Config);
        Keyspace.ExpiryPaused = () =>
        {
            ClientPause.CheckTimeout();
            return ClientPause.Active;
        };
        Commands = CommandFamilies.CreateRegistry();
        foreach (var (name, newName) in options.RenamedCommands)
        {
            Commands.Rename(name, newName);
        }
        Snapshots = new Persistence.Snapshots(this);
        Aof = new Persistence.Aof.AppendOnlyFile(this);
        Loading = new Persistence.LoadingProgress(this);
        Replication = new Replication.ReplicationMaster(this);
        Failover = new Replication.CoordinatedFailover(this);
        if (Config.ClusterEnabled.Value)
        {
            Cluster = (cluster ?? throw new InvalidOperationException("cluster-enabled yes needs the cluster module (start the node through TesseraHost)"))(this);
            Cluster.RegisterCommands(Commands);
        }
        Propagation = new Persistence.Propagation(this);
        Acl = new Acl.AccessControl(Config);
        Config.RequirePass.Changed = Acl.UpdateDefaultPassword;
        LoadUsers(options.Users);
        Clients = new ClientRegistry(this);
        Slowlog = new Slowlog(Config);
        Latency = new Diagnostics.LatencyMonitor(Config.LatencyMonitorThreshold);
        Evictor = new Evictor(Config, Keyspace, UsedMemory);
        Blocking = new BlockingRegistry(this);
        Watches = new WatchRegistry(Keyspace);
        Notifications = new Pubsub.KeyspaceNotifier(Config, PubSub, () => CurrentClient);
        Keyspace.KeyExpired += (db, key) =>
        {
            if (Propagation.Active)
            {
                Propagation.Command(db.Index, Persistence.Propagation.DeleteCommand(Config.LazyfreeLazyExpire.Value), key);
            }
            Notifications.Notify(Pubsub.KeyspaceEvents.Expired, "expired"u8, key, db.Index);
            Watches.Touch(db.Index, key);
        };
        Evictor.KeyEvicted += (db, key) =>
        {
            if (Propagation.Active)
            {
                Propagation.Command(db.Index, Persistence.Propagation.DeleteCommand(Config.LazyfreeLazyEviction.Value), key);
            }
            Watches.Touch(db.Index, key);
            Notifications.Notify(Pubsub.KeyspaceEvents.Evicted, "evicted"u8, key, db.Index);
        };
        Keyspace.KeyAdded = (db, key) => Notifications.Notify(Pubsub.KeyspaceEvents.New, "new"u8, key, db.Index);
        Keyspace.KeyMissed = (db, key) => Notifications.Notify(Pubsub.KeyspaceEvents.KeyMiss, "keymiss"u8, key, db.Index);
        RunId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        Keyspace.Lfu = Config.MaxMemoryPolicy.Value.EndsWith("-lfu", StringComparison.Ordinal);
        Config.MaxMemoryPolicy.Changed = () => Keyspace.Lfu = Config.MaxMemoryPolicy.Value.EndsWith("-lfu", StringComparison.Ordinal);
        Config.SlowlogMaxLen.Changed = Slowlog.Trim;
        Config.MaxMemory.Changed = SizeStringPool;
        SizeStringPool();
        foreach (var warning in options.Warnings)
        {
            Log.OptionNotImplemented(warning);
        }
    }

    internal ServerConfig Config { get; }

    internal Keyspace Keyspace { get; }

    internal CommandRegistry Commands { get; }

    internal ClientRegistry Clients { get; }

    internal ClientPause ClientPause { get; } = new();

    /// <summary>What DEBUG switched for tests.</summary>
    internal DebugSwitches Debug { get; } = new();

    internal BlockingRegistry Blocking { get; }

    internal WatchRegistry Watches { get; }

    internal PubSubRegistry PubSub { get; } = new();

    internal Pubsub.KeyspaceNotifier Notifications { get; }

    /// <summary>The client whose command is running (Redis's server.current_client); null for the cron's work.</summary>
    internal ClientSession? CurrentClient { get; set; }

    internal Scripting.ScriptEngine Scripts => _scripts ??= new Scripting.ScriptEngine(this);

    internal Slowlog Slowlog { get; }

    internal Diagnostics.LatencyMonitor Latency { get; }

    internal ServerStats Stats { get; } = new();

    internal Evictor Evictor { get; }

    /// <summary>Clients in MONITOR mode.</summary>
    internal List<ClientSession> Monitors { get; } = [];

    /// <summary>Held while a command (or a batch of pipelined commands of one client) runs.</summary>
    internal Lock ExecutionLock { get; } = new();

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Log { get; }

    /// <summary>Changes since the last save (INFO rdb_changes_since_last_save).</summary>
    internal long Dirty
    {
        get => _dirty;
        set
        {
            if (value > _dirty)
            {
                Changes += value - _dirty;
            }
            _dirty = value;
        }
    }

    /// <summary>
    /// Changes ever made: only grows, where <see cref="Dirty"/> is reset by saves (even inside a command, as
    /// FLUSHALL's), so "did this command change anything" compares this.
    /// </summary>
    internal long Changes { get; private set; }

    /// <summary>Random 40-hex-digit id of this run (INFO run_id).</summary>
    internal string RunId { get; }

    internal long StartedAtMs { get; } = Environment.TickCount64;


    /// <summary>
    /// The most unsent output one client may hold when its class has no hard limit (Redis's default for normal
    /// clients): a quarter of the memory the runtime may use (which honours a GC heap hard limit), at least 64 MB.
    /// </summary>
    internal long OutputCeiling { get; } = Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);

    /// <summary>Resident memory when the server started: runtime, code, tables (part of used_memory).</summary>
    internal long BaselineMemory { get; private set; }

    /// <summary>Absolute path of the config file, or null (CONFIG REWRITE, INFO config_file).</summary>
    internal string? ConfigFile { get; }

    /// <summary>Highest used_memory seen by the cron.</summary>
    internal long PeakMemory { get; private set; }

    /// <summary>
    /// Creates the users of the config file's <c>user</c> lines or of <c>aclfile</c> (not both, as in Redis);
    /// an invalid definition stops the server before it listens.
    /// </summary>
    private void LoadUsers(IReadOnlyList<string[]> users)
    {
        var aclFile = Config.AclFile.Value;
        if (aclFile.Length > 0 && users.Count > 0)
        {
            throw new ConfigurationException(0, "", "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.");
        }
        var error = Acl.LoadConfigured(users);
        if (error is null && aclFile.Length > 0)
        {
            error = Acl.LoadFile(aclFile);
            error = error is null ? null : "Aborting Redis startup because of ACL errors: " + error;
        }
        if (error is not null)
        {
            throw new ConfigurationException(0, "", error);
        }
    }

    /// <summary>The RDB snapshot: SAVE, loading at start-up, DEBUG RELOAD.</summary>
    internal Persistence.Snapshots Snapshots { get; }

    /// <summary>Start-up loading of the dataset (INFO's loading fields, -LOADING replies meanwhile).</summary>
    internal Persistence.LoadingProgress Loading { get; }

    /// <summary>The replicas of this node and its replication stream.</summary>
    internal Replication.ReplicationMaster Replication { get; }

    /// <summary>Cluster mode, or null for a standalone node.</summary>
    internal Cluster.IClusterNode? Cluster { get; }

    /// <summary>A coordinated FAILOVER, when one runs.</summary>
    internal Replication.CoordinatedFailover Failover { get; }

    /// <summary>The append-only file (<c>appendonly</c>).</summary>
    internal Persistence.Aof.AppendOnlyFile Aof { get; }

    /// <summary>Where writes are propagated to the AOF.</summary>
    internal Persistence.Propagation Propagation { get; }

    /// <summary>Users and permissions (ACL).</summary>
    internal Acl.AccessControl Acl { get; }

    /// <summary>The TCP port actually bound (differs from the configured one when it was 0).</summary>
    public int Port => _listeners.FirstOrDefault(l => l.UnixPath is null)?.Port ?? (int)Config.Port.Value;

    /// <summary>The configured log level (debug, verbose, notice, warning), which CONFIG SET may change.</summary>
    public string LogLevel => Config.LogLevel.Value;

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
            var loop = new EventLoop(this, i);
            foreach (var listener in _listeners)
            {
                loop.AddListener(listener);
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
                loop.RemoveListener(listener);
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

    /// <summary>
    /// Takes the execution lock, unless a script has run past busy-reply-threshold: then false, and the caller
    /// answers -BUSY (or defers its work) instead of waiting. Checked before the lock, which is reentrant: a client
    /// served from inside the busy script, on its thread, must not run under the script's lock.
    /// </summary>
    internal bool TryEnterExecution()
    {
        // Checked again every 50 ms: a script may start, its engine even be created, while this thread waits.
        while (ScriptsIfStarted is not { TimedOut: true })
        {
            if (ExecutionLock.TryEnter(50))
            {
                if (ScriptsIfStarted is not { TimedOut: true })
                {
                    return true;
                }
                // Re-entered on the busy script's own thread.
                ExecutionLock.Exit();
                return false;
            }
        }
        return false;
    }

    /// <summary>The Lua engine if a script ever ran, else null (read without the execution lock).</summary>
    internal Scripting.ScriptEngine? ScriptsIfStarted => Volatile.Read(ref _scripts);

    /// <summary>Scripts in the EVAL cache, without starting the Lua engine to count none.</summary>
    internal int CachedScripts => _scripts?.Count ?? 0;

    /// <summary>What LATENCY DOCTOR's advice depends on besides the events.</summary>
    internal Diagnostics.LatencyReport.Settings LatencyReportSettings() => new(
        Config.LatencyMonitorThreshold.Value,
        Config.SlowlogLogSlowerThan.Value,
        Config.AppendFsync.Value == "always",
        Config.Hz.Value,
        Stats.ForkGigabytesPerSecond(UsedMemory()),
        Diagnostics.ProcessMemory.AnonymousHugePagesKb());

    /// <summary>used_memory: the managed baseline, the data set, and bytes buffered for clients.</summary>
    internal long UsedMemory() => BaselineMemory + Keyspace.UsedMemory + ClientBufferBytes();

    /// <summary>Bytes of input and output buffered for all clients.</summary>
    internal long ClientBufferBytes()
    {
        long total = 0;
        foreach (var session in Clients.All)
        {
            total += session.InputCapacity + session.Output.Length;
        }
        return total;
    }

    /// <summary>
    /// Redis's allowProtectedAction for DEBUG, MODULE and protected configs: "yes" allows, "local" allows clients
    /// on a unix socket or a loopback address.
    /// </summary>
    internal bool AllowsProtected(EnumOption setting, ClientSession session)
        => setting.Value == "yes" || (setting.Value == "local"
            && ((session.Flags & ClientFlags.UnixSocket) != 0 || session.RemoteAddress.StartsWith("127.", StringComparison.Ordinal)
                || session.RemoteAddress.StartsWith("[::1]", StringComparison.Ordinal)));

    /// <summary>Sum of a per-loop counter.</summary>
    internal long NetInputBytes => _loops.Sum(l => l.NetInputBytes);

    internal long NetOutputBytes => _loops.Sum(l => l.NetOutputBytes);

    /// <summary>The path when <paramref name="fd"/> is a unix socket listener, else null.</summary>
    internal string? UnixSocketPathOf(int fd)
    {
        foreach (var listener in _listeners)
        {
            if (listener.Fd == fd)
            {
                return listener.UnixPath;
            }
        }
        return null;
    }

    private void BindListeners()
    {
        if (Config.Port.Value != 0 || Config.UnixSocket.Value.Length == 0)
        {
            _listeners.AddRange(BindTcpListeners());
        }
        if (Config.UnixSocket.Value.Length > 0)
        {
            _listeners.Add(Listener.Unix(Config.UnixSocket.Value, (int)Config.UnixSocketPerm.Value, (int)Config.TcpBacklog.Value));
        }
        if (_listeners.Count == 0)
        {
            throw new IOException("Configured to not listen anywhere, exiting.");
        }
    }

    /// <summary>One listener per bind address; an address marked '-' may fail. Throws if another one fails.</summary>
    private List<Listener> BindTcpListeners()
    {
        var created = new List<Listener>();
        var port = (int)Config.Port.Value;
        foreach (var entry in Config.Bind)
        {
            var optional = entry.StartsWith('-');
            var address = optional ? entry[1..] : entry;
            try
            {
                created.Add(Listener.Tcp(address, port, (int)Config.TcpBacklog.Value));
                // Port 0 asks for any free port; the other addresses share the one chosen.
                port = port == 0 ? created[^1].Port : port;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or FormatException)
            {
                Log.BindFailed($"{address}:{port}", e.Message);
                if (!optional)
                {
                    created.ForEach(l => l.Dispose());
                    throw new IOException($"Could not create server TCP listening socket {address}:{port}: {e.Message}", e);
                }
            }
        }
        return created;
    }

    /// <summary>
    /// CONFIG SET port/bind: binds the new TCP listeners first (a failure keeps the old ones and is reported with
    /// Redis's texts), then swaps.
    /// </summary>
    private void Rebind(string failure)
    {
        List<Listener> created;
        try
        {
            created = BindTcpListeners();
        }
        catch (IOException)
        {
            throw new Config.ConfigApplyException(failure);
        }
        foreach (var old in _listeners.Where(l => l.UnixPath is null).ToList())
        {
            foreach (var loop in _loops)
            {
                loop.RemoveListener(old);
            }
            old.Dispose();
            _listeners.Remove(old);
        }
        foreach (var listener in created)
        {
            _listeners.Add(listener);
            foreach (var loop in _loops)
            {
                loop.AddListener(listener);
            }
        }
    }

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
        Stats.Sample();
        PeakMemory = Math.Max(PeakMemory, UsedMemory());
        Clients.ForgetDisconnected();
        CloseIdleClients();
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

    /// <summary>The recycled-string pool holds at most 5% of maxmemory (1 to 64 MB), or 16 MB without a limit.</summary>
    private void SizeStringPool()
    {
        var limit = Config.MaxMemory.Value;
        Keyspace.StringPool.Capacity = limit > 0 ? Math.Clamp(limit / 20, 1L << 20, 64L << 20) : 16L << 20;
    }

    /// <summary>
    /// Near maxmemory, keys evicted or overwritten become garbage that the GC may leave in the heap for a long
    /// time, and the process would grow far past the limit (a background collection frees but does not return
    /// memory). When the heap holds over 5% more than the live estimate, compact it (at most once a second), so
    /// resident memory stays close to used_memory. The price is a pause of tens of milliseconds per collection,
    /// paid only by nodes at their memory limit.
    /// </summary>
    private void CollectGarbageIfNeeded()
    {
        var live = _baselineHeap + Keyspace.UsedMemory + ClientBufferBytes();
        var now = Environment.TickCount64;
        if (UsedMemory() > Config.MaxMemory.Value * 9 / 10
            && GC.GetTotalMemory(forceFullCollection: false) > (live * 21 / 20) + (4L << 20)
            && now - _lastCollectionMs > 1000)
        {
            _lastCollectionMs = now;
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }

    /// <summary>
    /// Redis's allocator hands pages freed by a burst of writes back to the system over the following seconds;
    /// the GC keeps them committed (growth garbage, generation budgets) until a compacting collection. So once the
    /// node has run no command for a second and the GC has committed over 10% (and 4 MB) more than after the last
    /// such compaction, compact and decommit once. No client waits on an idle node, and a busy one never pays.
    /// </summary>
    private void CompactWhenIdle()
    {
        var now = Environment.TickCount64;
        var commands = Stats.CommandsProcessed;
        if (commands != _commandsAtLastCron)
        {
            _commandsAtLastCron = commands;
            _lastActivityMs = now;
            return;
        }
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (now - _lastActivityMs < 1000 || committed <= (_committedAfterIdleCompaction * 11 / 10) + (4L << 20))
        {
            return;
        }
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _committedAfterIdleCompaction = GC.GetGCMemoryInfo().TotalCommittedBytes;
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

    /// <summary>Sends a MONITOR line for a command to every monitoring client (not the one that ran it).</summary>
    /// <summary>
    /// Shows a command to MONITOR clients, unless it is an admin command or (but when <paramref name="explicitly"/>
    /// fed by EVAL and FCALL before their scripts run, as Redis does) skip_monitor. Commands a script runs are
    /// shown as coming from "lua".
    /// </summary>
    internal void FeedMonitors(ClientSession session, ServerCommand command, Resp.Request args, bool fromScript = false, bool explicitly = false)
    {
        var skipped = Core.Commands.CommandFlags.Admin | (explicitly ? 0 : Core.Commands.CommandFlags.SkipMonitor);
        if ((command.Info.Flags & skipped) != 0)
        {
            return;
        }
        var line = MonitorLine.Format(session, command, args, Config, fromScript);
        foreach (var monitor in Monitors)
        {
            monitor.WriteRemote(w => w.WriteSimpleString(line));
        }
    }
}
