using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Core.Networking;
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

    /// <summary>Creates a standalone node from configuration already loaded (see <see cref="ServerOptions"/>).</summary>
    public TesseraServer(ServerOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, cluster: null)
    {
    }

    /// <summary>
    /// Creates a node; with <c>cluster-enabled yes</c>, <paramref name="cluster"/> makes its cluster part
    /// (Tessera.Cluster's TesseraHost passes it).
    /// </summary>
    public TesseraServer(ServerOptions options, ILoggerFactory? loggerFactory, Func<Cluster.IClusterHost, Cluster.IClusterNode>? cluster)
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
        Commands = CommandFamilies.CreateRegistry(() => ScriptsIfStarted);
        foreach (var (name, newName) in options.RenamedCommands)
        {
            Commands.Rename(name, newName);
        }
        Snapshots = new Persistence.Snapshots(this);
        Aof = new Persistence.Aof.AppendOnlyFile(this);
        Loading = new Persistence.LoadingProgress(ExecutionLock);
        Replication = new Replication.ReplicationMaster(this);
        Failover = new Replication.CoordinatedFailover(Replication, ClientPause, Log);
        Propagation = new Persistence.Propagation(Aof, Replication);
        Acl = new Acl.AccessControl(Config);
        Config.RequirePass.Changed = Acl.UpdateDefaultPassword;
        LoadUsers(options.Users);
        Clients = new ClientRegistry(this);
        Slowlog = new Slowlog(Config);
        Latency = new Diagnostics.LatencyMonitor(Config.LatencyMonitorThreshold);
        SaveEnvironment = new Persistence.SaveEnvironment(Keyspace, Changes, ExecutionLock, Config, Log, Stats, Latency);
        Evictor = new Evictor(Config, Keyspace, UsedMemory);
        Blocking = new BlockingRegistry(Keyspace, ExecutionLock, Log);
        Watches = new WatchRegistry(Keyspace);
        Tracking = new Caching.TrackingTable(Clients, Config.TrackingTableMaxKeys);
        if (Config.ClusterEnabled.Value)
        {
            var host = new Cluster.ClusterHost(Config, () => Port, Keyspace, Watches, Tracking, Replication, ClientPause, PubSub, Debug, ExecutionLock, Log);
            Cluster = (cluster ?? throw new InvalidOperationException("cluster-enabled yes needs the cluster module (start the node through TesseraHost)"))(host);
            Cluster.RegisterCommands(Commands);
        }
        Notifications = new Pubsub.KeyspaceNotifier(Config, PubSub, () => CurrentClient);
        Keyspace.KeyExpired += (db, key) =>
        {
            if (Propagation.Active)
            {
                Propagation.Command(db.Index, Persistence.Propagation.DeleteCommand(Config.LazyfreeLazyExpire.Value), key);
            }
            Notifications.Notify(Pubsub.KeyspaceEvents.Expired, "expired"u8, key, db.Index);
            Watches.Touch(db.Index, key);
            Tracking.Invalidate(null, key);
        };
        Evictor.KeyEvicted += (db, key) =>
        {
            if (Propagation.Active)
            {
                Propagation.Command(db.Index, Persistence.Propagation.DeleteCommand(Config.LazyfreeLazyEviction.Value), key);
            }
            Watches.Touch(db.Index, key);
            Tracking.Invalidate(null, key, inCommand: false);
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

    /// <summary>CLIENT TRACKING: who may cache which keys, and the BCAST prefixes.</summary>
    internal Caching.TrackingTable Tracking { get; }

    internal PubSubRegistry PubSub { get; } = new();

    internal Pubsub.KeyspaceNotifier Notifications { get; }

    /// <summary>The client whose command is running (Redis's server.current_client); null for the cron's work.</summary>
    internal ClientSession? CurrentClient { get; set; }

    internal Scripting.ScriptEngine Scripts => _scripts ??= new Scripting.ScriptEngine(Config, Log, Propagation, Changes, OutputCeiling);

    internal Slowlog Slowlog { get; }

    internal Diagnostics.LatencyMonitor Latency { get; }

    /// <summary>What background saves (BGSAVE, AOF rewrites, full syncs) need of the node.</summary>
    internal Persistence.SaveEnvironment SaveEnvironment { get; }

    internal ServerStats Stats { get; } = new();

    internal Evictor Evictor { get; }

    /// <summary>Clients in MONITOR mode.</summary>
    internal List<ClientSession> Monitors { get; } = [];

    /// <summary>Held while a command (or a batch of pipelined commands of one client) runs.</summary>
    internal Lock ExecutionLock { get; } = new();

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Log { get; }

    /// <summary>Changes since the last save and ever.</summary>
    internal Persistence.ChangeCounter Changes { get; } = new();

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

    /// <summary>The configured log level (debug, verbose, notice, warning), which CONFIG SET may change.</summary>
    public string LogLevel => Config.LogLevel.Value;

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

    /// <summary>
    /// Redis's allowProtectedAction for DEBUG, MODULE and protected configs: "yes" allows, "local" allows clients
    /// on a unix socket or a loopback address.
    /// </summary>
    internal bool AllowsProtected(EnumOption setting, ClientSession session)
        => setting.Value == "yes" || (setting.Value == "local"
            && ((session.Flags & ClientFlags.UnixSocket) != 0 || session.RemoteAddress.StartsWith("127.", StringComparison.Ordinal)
                || session.RemoteAddress.StartsWith("[::1]", StringComparison.Ordinal)));

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
