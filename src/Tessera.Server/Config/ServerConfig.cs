using static Tessera.Server.Config.ConfigFlags;

namespace Tessera.Server.Config;

/// <summary>
/// Every option redis-server 7.0 knows, with Redis's names, aliases, types, bounds and defaults. The server reads
/// typed values from the fields below; CONFIG GET/SET/REWRITE, the config file and command-line arguments all go
/// through <see cref="Find"/>. Options Tessera recognises but does not act on yet carry
/// <see cref="ConfigFlags.NotImplemented"/>: setting them logs a warning instead of failing.
/// </summary>
internal sealed partial class ServerConfig
{
    private const long IntMax = int.MaxValue;
    private const long LongMax = long.MaxValue;
    private const long UIntMax = uint.MaxValue;

    private static readonly string[] EnableNoYesLocal = ["no", "yes", "local"];

    private readonly Dictionary<string, ConfigOption> _byName = new(StringComparer.OrdinalIgnoreCase);

    // Network and clients.
    public readonly NumberOption Port = new("port", 6379, 0, 65535);
    public readonly NumberOption TcpBacklog = new("tcp-backlog", 511, 0, IntMax, flags: Immutable);
    public readonly NumberOption Timeout = new("timeout", 0, 0, IntMax);
    public readonly NumberOption TcpKeepAlive = new("tcp-keepalive", 300, 0, IntMax);
    public readonly BoolOption ProtectedMode = new("protected-mode", true);
    public readonly StringOption UnixSocket = new("unixsocket", "", Immutable);
    public readonly NumberOption UnixSocketPerm = new("unixsocketperm", 0, 0, 511, NumberKind.Octal, Immutable);
    public readonly NumberOption MaxClients = new("maxclients", 10000, 1, UIntMax);
    public readonly NumberOption ClientQueryBufferLimit = new("client-query-buffer-limit", 1L << 30, 1024 * 1024, LongMax, NumberKind.Memory);
    public readonly NumberOption ProtoMaxBulkLen = new("proto-max-bulk-len", 512L * 1024 * 1024, 1024 * 1024, LongMax, NumberKind.Memory);
    public readonly StringOption RequirePass = new("requirepass", "", Sensitive);
    public readonly NumberOption IoThreads = new("io-threads", 1, 1, 128, flags: Immutable);
    public readonly BoolOption IoThreadsDoReads = new("io-threads-do-reads", false, Immutable);
    public readonly StringOption BindSourceAddr = new("bind-source-addr", "", NotImplemented);
    public readonly NumberOption SocketMarkId = new("socket-mark-id", 0, 0, UIntMax, flags: NotImplemented);

    // General.
    public readonly BoolOption Daemonize = new("daemonize", false, Immutable);
    public readonly EnumOption Supervised = new("supervised", ["upstart", "systemd", "auto", "no"], "no", flags: Immutable | NotImplemented);
    public readonly StringOption PidFile = new("pidfile", "", Immutable);
    public readonly EnumOption LogLevel = new("loglevel", ["debug", "verbose", "notice", "warning"], "notice");
    public readonly StringOption LogFile = new("logfile", "", Immutable);
    public readonly BoolOption SyslogEnabled = new("syslog-enabled", false, Immutable | NotImplemented);
    public readonly StringOption SyslogIdent = new("syslog-ident", "redis", Immutable | NotImplemented);
    public readonly EnumOption SyslogFacility = new("syslog-facility",
        ["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"], "local0", flags: Immutable | NotImplemented);
    public readonly NumberOption Databases = new("databases", 16, 1, IntMax, flags: Immutable);
    public readonly BoolOption AlwaysShowLogo = new("always-show-logo", false, Immutable);
    public readonly BoolOption SetProcTitle = new("set-proc-title", true, Immutable);
    public readonly StringOption ProcTitleTemplate = new("proc-title-template", "{title} {listen-addr} {server-mode}");
    public readonly NumberOption Hz = new("hz", 10, 0, IntMax) { Clamp = v => Math.Clamp(v, 1, 500) };
    public readonly BoolOption DynamicHz = new("dynamic-hz", true);
    public readonly EnumOption EnableProtectedConfigs = new("enable-protected-configs", EnableNoYesLocal, "no", flags: Immutable);
    public readonly EnumOption EnableDebugCommand = new("enable-debug-command", EnableNoYesLocal, "no", flags: Immutable);
    public readonly EnumOption EnableModuleCommand = new("enable-module-command", EnableNoYesLocal, "no", flags: Immutable);
    public readonly StringOption IgnoreWarnings = new("ignore-warnings", "");
    public readonly BoolOption CrashLogEnabled = new("crash-log-enabled", true);
    public readonly BoolOption CrashMemcheckEnabled = new("crash-memcheck-enabled", true);
    public readonly BoolOption DisableThp = new("disable-thp", true, Immutable);
    public readonly BoolOption JemallocBgThread = new("jemalloc-bg-thread", true);
    public readonly EnumOption OomScoreAdj = new("oom-score-adj", ["no", "yes", "relative", "absolute"], "no", flags: NotImplemented);
    public readonly StringOption ServerCpuList = new("server_cpulist", "", Immutable | NotImplemented);
    public readonly StringOption BioCpuList = new("bio_cpulist", "", Immutable | NotImplemented);
    public readonly StringOption AofRewriteCpuList = new("aof_rewrite_cpulist", "", Immutable | NotImplemented);
    public readonly StringOption BgsaveCpuList = new("bgsave_cpulist", "", Immutable | NotImplemented);
    public readonly EnumOption ShutdownOnSigint = new("shutdown-on-sigint", ["default", "save", "nosave", "now", "force"], "default", multiple: true);
    public readonly EnumOption ShutdownOnSigterm = new("shutdown-on-sigterm", ["default", "save", "nosave", "now", "force"], "default", multiple: true);
    public readonly NumberOption ShutdownTimeout = new("shutdown-timeout", 10, 0, IntMax);

    // Memory and eviction.
    public readonly NumberOption MaxMemory = new("maxmemory", 0, 0, LongMax, NumberKind.Memory);
    public readonly EnumOption MaxMemoryPolicy = new("maxmemory-policy",
        ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"], "noeviction");
    public readonly NumberOption MaxMemorySamples = new("maxmemory-samples", 5, 1, IntMax);
    public readonly NumberOption MaxMemoryEvictionTenacity = new("maxmemory-eviction-tenacity", 10, 0, 100);
    public readonly NumberOption MaxMemoryClients = new("maxmemory-clients", 0, 0, LongMax, NumberKind.MemoryOrPercent, NotImplemented);
    public readonly NumberOption LfuLogFactor = new("lfu-log-factor", 10, 0, IntMax);
    public readonly NumberOption LfuDecayTime = new("lfu-decay-time", 1, 0, IntMax);
    public readonly NumberOption ActiveExpireEffort = new("active-expire-effort", 1, 1, 10);
    public readonly BoolOption ReplicaIgnoreMaxMemory = new("replica-ignore-maxmemory", true, aliases: "slave-ignore-maxmemory");
    public readonly BoolOption LazyfreeLazyEviction = new("lazyfree-lazy-eviction", false);
    public readonly BoolOption LazyfreeLazyExpire = new("lazyfree-lazy-expire", false);
    public readonly BoolOption LazyfreeLazyServerDel = new("lazyfree-lazy-server-del", false);
    public readonly BoolOption LazyfreeLazyUserDel = new("lazyfree-lazy-user-del", false);
    public readonly BoolOption LazyfreeLazyUserFlush = new("lazyfree-lazy-user-flush", false);
    public readonly BoolOption ActiveRehashing = new("activerehashing", true);
    public readonly BoolOption ActiveDefrag = new("activedefrag", false);
    public readonly NumberOption ActiveDefragIgnoreBytes = new("active-defrag-ignore-bytes", 100L << 20, 1, LongMax, NumberKind.Memory);
    public readonly NumberOption ActiveDefragThresholdLower = new("active-defrag-threshold-lower", 10, 0, 1000);
    public readonly NumberOption ActiveDefragThresholdUpper = new("active-defrag-threshold-upper", 100, 0, 1000);
    public readonly NumberOption ActiveDefragCycleMin = new("active-defrag-cycle-min", 1, 1, 99);
    public readonly NumberOption ActiveDefragCycleMax = new("active-defrag-cycle-max", 25, 1, 99);
    public readonly NumberOption ActiveDefragMaxScanFields = new("active-defrag-max-scan-fields", 1000, 1, LongMax);

    // Data type encodings (compact below these sizes).
    public readonly NumberOption HashMaxListpackEntries = new("hash-max-listpack-entries", 512, 0, LongMax, aliases: "hash-max-ziplist-entries");
    public readonly NumberOption HashMaxListpackValue = new("hash-max-listpack-value", 64, 0, LongMax, aliases: "hash-max-ziplist-value");
    public readonly NumberOption ListMaxListpackSize = new("list-max-listpack-size", -2, int.MinValue, IntMax, aliases: "list-max-ziplist-size");
    public readonly NumberOption ListCompressDepth = new("list-compress-depth", 0, 0, IntMax);
    public readonly NumberOption SetMaxIntsetEntries = new("set-max-intset-entries", 512, 0, LongMax);
    public readonly NumberOption ZsetMaxListpackEntries = new("zset-max-listpack-entries", 128, 0, LongMax, aliases: "zset-max-ziplist-entries");
    public readonly NumberOption ZsetMaxListpackValue = new("zset-max-listpack-value", 64, 0, LongMax, aliases: "zset-max-ziplist-value");
    public readonly NumberOption HllSparseMaxBytes = new("hll-sparse-max-bytes", 3000, 0, LongMax, NumberKind.Memory);
    public readonly NumberOption StreamNodeMaxBytes = new("stream-node-max-bytes", 4096, 0, LongMax, NumberKind.Memory, NotImplemented);
    public readonly NumberOption StreamNodeMaxEntries = new("stream-node-max-entries", 100, 0, LongMax, flags: NotImplemented);

    // Redis's hidden options (not listed by CONFIG GET *), used by its test suite: delays per key written or loaded
    // (microseconds; a negative value sleeps 1 us with probability 1/|value|), and three that change nothing here.
    public readonly NumberOption RdbKeySaveDelay = new("rdb-key-save-delay", 0, int.MinValue, IntMax, flags: Hidden);
    public readonly NumberOption KeyLoadDelay = new("key-load-delay", 0, int.MinValue, IntMax, flags: Hidden);
    public readonly NumberOption LoadingProcessEventsIntervalBytes = new("loading-process-events-interval-bytes", 2 << 20, 1024, IntMax, flags: Hidden);
    public readonly NumberOption WatchdogPeriod = new("watchdog-period", 0, 0, IntMax, flags: Hidden);
    public readonly BoolOption UseExitOnPanic = new("use-exit-on-panic", false, Hidden);

    // Logs and monitoring.
    public readonly NumberOption SlowlogLogSlowerThan = new("slowlog-log-slower-than", 10000, -1, LongMax);
    public readonly NumberOption SlowlogMaxLen = new("slowlog-max-len", 128, 0, LongMax);
    public readonly NumberOption LatencyMonitorThreshold = new("latency-monitor-threshold", 0, 0, LongMax);
    public readonly BoolOption LatencyTracking = new("latency-tracking", true);
    public readonly NumberOption TrackingTableMaxKeys = new("tracking-table-max-keys", 1000000, 0, LongMax);

    // Scripting and ACL.
    public readonly NumberOption BusyReplyThreshold = new("busy-reply-threshold", 5000, 0, LongMax, aliases: "lua-time-limit");
    public readonly StringOption AclFile = new("aclfile", "", Immutable);
    public readonly NumberOption AclLogMaxLen = new("acllog-max-len", 128, 0, LongMax);
    public readonly EnumOption AclPubsubDefault = new("acl-pubsub-default", ["allchannels", "resetchannels"], "resetchannels");

    // Persistence.
    public readonly StringOption DbFilename = new("dbfilename", "dump.rdb", Protected);
    public readonly BoolOption RdbCompression = new("rdbcompression", true);
    public readonly BoolOption RdbChecksum = new("rdbchecksum", true, Immutable);
    public readonly BoolOption RdbDelSyncFiles = new("rdb-del-sync-files", false);
    public readonly BoolOption RdbSaveIncrementalFsync = new("rdb-save-incremental-fsync", true);
    public readonly BoolOption StopWritesOnBgsaveError = new("stop-writes-on-bgsave-error", true);
    public readonly EnumOption SanitizeDumpPayload = new("sanitize-dump-payload", ["no", "yes", "clients"], "no");
    public readonly BoolOption AppendOnly = new("appendonly", false);
    public readonly StringOption AppendFilename = new("appendfilename", "appendonly.aof", Immutable);
    public readonly StringOption AppendDirname = new("appenddirname", "appendonlydir", Immutable);
    public readonly EnumOption AppendFsync = new("appendfsync", ["always", "everysec", "no"], "everysec");
    public readonly BoolOption NoAppendfsyncOnRewrite = new("no-appendfsync-on-rewrite", false);
    public readonly NumberOption AutoAofRewritePercentage = new("auto-aof-rewrite-percentage", 100, 0, IntMax);
    public readonly NumberOption AutoAofRewriteMinSize = new("auto-aof-rewrite-min-size", 64L << 20, 0, LongMax, NumberKind.Memory);
    public readonly BoolOption AofLoadTruncated = new("aof-load-truncated", true);
    public readonly BoolOption AofUseRdbPreamble = new("aof-use-rdb-preamble", true);
    public readonly BoolOption AofRewriteIncrementalFsync = new("aof-rewrite-incremental-fsync", true);
    public readonly BoolOption AofTimestampEnabled = new("aof-timestamp-enabled", false);
    public readonly BoolOption AofDisableAutoGc = new("aof-disable-auto-gc", false);

    // Replication.
    public readonly StringOption MasterAuth = new("masterauth", "", Sensitive);
    public readonly StringOption MasterUser = new("masteruser", "");
    public readonly BoolOption ReplicaServeStaleData = new("replica-serve-stale-data", true, aliases: "slave-serve-stale-data");
    public readonly BoolOption ReplicaReadOnly = new("replica-read-only", true, aliases: "slave-read-only");
    public readonly BoolOption ReplDisklessSync = new("repl-diskless-sync", true);
    public readonly NumberOption ReplDisklessSyncDelay = new("repl-diskless-sync-delay", 5, 0, IntMax);
    public readonly NumberOption ReplDisklessSyncMaxReplicas = new("repl-diskless-sync-max-replicas", 0, 0, IntMax);
    public readonly EnumOption ReplDisklessLoad = new("repl-diskless-load", ["disabled", "on-empty-db", "swapdb"], "disabled");
    public readonly NumberOption ReplPingReplicaPeriod = new("repl-ping-replica-period", 10, 1, IntMax, aliases: "repl-ping-slave-period");
    public readonly NumberOption ReplTimeout = new("repl-timeout", 60, 1, IntMax);
    public readonly BoolOption ReplDisableTcpNodelay = new("repl-disable-tcp-nodelay", false);
    public readonly NumberOption ReplBacklogSize = new("repl-backlog-size", 1L << 20, 1, LongMax, NumberKind.Memory);
    public readonly NumberOption ReplBacklogTtl = new("repl-backlog-ttl", 3600, 0, LongMax);
    public readonly NumberOption ReplicaPriority = new("replica-priority", 100, 0, IntMax, aliases: "slave-priority");
    public readonly BoolOption ReplicaAnnounced = new("replica-announced", true);
    public readonly StringOption ReplicaAnnounceIp = new("replica-announce-ip", "", aliases: "slave-announce-ip");
    public readonly NumberOption ReplicaAnnouncePort = new("replica-announce-port", 0, 0, 65535, aliases: "slave-announce-port");
    public readonly NumberOption MinReplicasToWrite = new("min-replicas-to-write", 0, 0, IntMax, aliases: "min-slaves-to-write");
    public readonly NumberOption MinReplicasMaxLag = new("min-replicas-max-lag", 10, 0, IntMax, aliases: "min-slaves-max-lag");
    public readonly BoolOption ReplicaLazyFlush = new("replica-lazy-flush", false, aliases: "slave-lazy-flush");
    public readonly BoolOption ReplicaIgnoreDiskWriteErrors = new("replica-ignore-disk-write-errors", false);
    public readonly EnumOption PropagationErrorBehavior = new("propagation-error-behavior", ["ignore", "panic", "panic-on-replicas"], "ignore");

    // Cluster.
    public readonly BoolOption ClusterEnabled = new("cluster-enabled", false, Immutable);
    public readonly StringOption ClusterConfigFile = new("cluster-config-file", "nodes.conf", Immutable);
    public readonly NumberOption ClusterNodeTimeout = new("cluster-node-timeout", 15000, 0, LongMax);
    public readonly NumberOption ClusterPort = new("cluster-port", 0, 0, 65535, flags: Immutable);
    public readonly NumberOption ClusterReplicaValidityFactor = new("cluster-replica-validity-factor", 10, 0, IntMax, aliases: "cluster-slave-validity-factor");
    public readonly NumberOption ClusterMigrationBarrier = new("cluster-migration-barrier", 1, 0, IntMax);
    public readonly BoolOption ClusterAllowReplicaMigration = new("cluster-allow-replica-migration", true);
    public readonly BoolOption ClusterRequireFullCoverage = new("cluster-require-full-coverage", true);
    public readonly BoolOption ClusterReplicaNoFailover = new("cluster-replica-no-failover", false, aliases: "cluster-slave-no-failover");
    public readonly BoolOption ClusterAllowReadsWhenDown = new("cluster-allow-reads-when-down", false);
    public readonly BoolOption ClusterAllowPubsubshardWhenDown = new("cluster-allow-pubsubshard-when-down", true);
    public readonly StringOption ClusterAnnounceIp = new("cluster-announce-ip", "");
    public readonly StringOption ClusterAnnounceHostname = new("cluster-announce-hostname", "");
    public readonly NumberOption ClusterAnnouncePort = new("cluster-announce-port", 0, 0, 65535);
    public readonly NumberOption ClusterAnnounceBusPort = new("cluster-announce-bus-port", 0, 0, 65535);
    public readonly NumberOption ClusterAnnounceTlsPort = new("cluster-announce-tls-port", 0, 0, 65535);
    public readonly EnumOption ClusterPreferredEndpointType = new("cluster-preferred-endpoint-type", ["ip", "hostname", "unknown-endpoint"], "ip");
    public readonly NumberOption ClusterLinkSendbufLimit = new("cluster-link-sendbuf-limit", 0, 0, LongMax, NumberKind.Memory);

    // TLS: recognised, not served yet.
    public readonly NumberOption TlsPort = new("tls-port", 0, 0, 65535, flags: NotImplemented);
    public readonly StringOption TlsCertFile = new("tls-cert-file", "", NotImplemented);
    public readonly StringOption TlsKeyFile = new("tls-key-file", "", NotImplemented);
    public readonly StringOption TlsKeyFilePass = new("tls-key-file-pass", "", Sensitive | NotImplemented);
    public readonly StringOption TlsClientCertFile = new("tls-client-cert-file", "", NotImplemented);
    public readonly StringOption TlsClientKeyFile = new("tls-client-key-file", "", NotImplemented);
    public readonly StringOption TlsClientKeyFilePass = new("tls-client-key-file-pass", "", Sensitive | NotImplemented);
    public readonly StringOption TlsDhParamsFile = new("tls-dh-params-file", "", NotImplemented);
    public readonly StringOption TlsCaCertFile = new("tls-ca-cert-file", "", NotImplemented);
    public readonly StringOption TlsCaCertDir = new("tls-ca-cert-dir", "", NotImplemented);
    public readonly EnumOption TlsAuthClients = new("tls-auth-clients", ["no", "yes", "optional"], "yes", flags: NotImplemented);
    public readonly BoolOption TlsReplication = new("tls-replication", false, NotImplemented);
    public readonly BoolOption TlsCluster = new("tls-cluster", false, NotImplemented);
    public readonly StringOption TlsProtocols = new("tls-protocols", "", NotImplemented);
    public readonly StringOption TlsCiphers = new("tls-ciphers", "", NotImplemented);
    public readonly StringOption TlsCiphersuites = new("tls-ciphersuites", "", NotImplemented);
    public readonly BoolOption TlsPreferServerCiphers = new("tls-prefer-server-ciphers", false, NotImplemented);
    public readonly BoolOption TlsSessionCaching = new("tls-session-caching", true, NotImplemented);
    public readonly NumberOption TlsSessionCacheSize = new("tls-session-cache-size", 20 * 1024, 0, IntMax, flags: NotImplemented);
    public readonly NumberOption TlsSessionCacheTimeout = new("tls-session-cache-timeout", 300, 0, IntMax, flags: NotImplemented);

    public ServerConfig()
    {
        Dir = Directory.GetCurrentDirectory();
        CreateCustomOptions();
        foreach (var field in typeof(ServerConfig).GetFields())
        {
            if (field.GetValue(this) is ConfigOption option)
            {
                Register(option);
            }
        }
        foreach (var option in All)
        {
            option.CaptureDefault();
        }
    }

    /// <summary>Every option, once each.</summary>
    public IEnumerable<ConfigOption> All => _byName.Values.Distinct();

    /// <summary>The option named <paramref name="name"/> (or one of its aliases), or null.</summary>
    public ConfigOption? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The names CONFIG GET lists: canonical names and aliases of options that are not hidden.</summary>
    public IEnumerable<(string Name, ConfigOption Option)> VisibleNames
        => _byName.Where(p => !p.Value.Flags.HasFlag(Hidden)).Select(p => (p.Key, p.Value));

    private void Register(ConfigOption option)
    {
        _byName[option.Name] = option;
        foreach (var alias in option.Aliases)
        {
            _byName[alias] = option;
        }
    }
}
