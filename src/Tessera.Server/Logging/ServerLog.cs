using Microsoft.Extensions.Logging;

namespace Tessera.Server.Logging;

/// <summary>The node's log messages, source-generated so a disabled level costs nothing.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Tessera {Version} starting, pid {Pid}")]
    public static partial void Starting(this ILogger logger, string version, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ready to accept connections on {Endpoints}")]
    public static partial void Ready(this ILogger logger, string endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create server TCP listening socket {Address}: {Reason}")]
    public static partial void BindFailed(this ILogger logger, string address, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Option '{Name}' is recognised but not implemented by Tessera yet; its value is kept but has no effect")]
    public static partial void OptionNotImplemented(this ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing client that reached max query buffer length: addr={Address}")]
    public static partial void QueryBufferLimit(this ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "User requested shutdown...")]
    public static partial void LogShutdownRequested(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Received {Signal} scheduling shutdown...")]
    public static partial void SignalReceived(this ILogger logger, string signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tessera is now ready to exit, bye bye...")]
    public static partial void Exiting(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Saving the final RDB snapshot before exiting.")]
    public static partial void SavingFinalSnapshot(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Error trying to save the DB, can't exit.")]
    public static partial void ShutdownSaveFailed(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "DB saved on disk")]
    public static partial void DbSaved(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "DB loaded from append only file: {Seconds:F3} seconds")]
    public static partial void AofLoaded(this ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "!!! Warning: short read while loading the AOF file {File}!!! AOF loaded anyway because aof-load-truncated is enabled: the file is truncated to {Length} bytes")]
    public static partial void AofTruncated(this ILogger logger, string file, long length);

    [LoggerMessage(Level = LogLevel.Information, Message = "Successfully migrated an old-style AOF into the AOF directory: {File} is now the base of the manifest")]
    public static partial void AofUpgraded(this ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Creating AOF base file {File} on server start")]
    public static partial void AofBaseCreated(this ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Error writing to the AOF file: {Reason}")]
    public static partial void AofWriteFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Background append only file rewriting started")]
    public static partial void AofRewriteStarted(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Background AOF rewrite finished successfully")]
    public static partial void AofRewriteSucceeded(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background AOF rewrite failed: {Reason}")]
    public static partial void AofRewriteFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting automatic rewriting of AOF on {Growth}% growth")]
    public static partial void AofAutomaticRewrite(this ILogger logger, long growth);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partial resynchronization request from {Address} accepted, sending {Bytes} bytes of backlog")]
    public static partial void ReplicaContinues(this ILogger logger, string address, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection with master {Host}:{Port} lost or refused: {Reason}")]
    public static partial void MasterLinkLost(this ILogger logger, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "MASTER <-> REPLICA sync: Master {Host}:{Port} accepted a Partial Resynchronization.")]
    public static partial void MasterContinues(this ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "MASTER <-> REPLICA sync: Finished with success ({Bytes} bytes of snapshot from {Host}:{Port})")]
    public static partial void MasterSynced(this ILogger logger, string host, int port, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "REPLICAOF {Host}:{Port} enabled (user request from client)")]
    public static partial void ReplicaOf(this ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "MASTER MODE enabled (user request from client)")]
    public static partial void MasterModeEnabled(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "MASTER MODE enabled (failover request from {Address})")]
    public static partial void MasterModeForFailover(this ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "FAILOVER requested to {Target}.")]
    public static partial void FailoverRequested(this ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "FAILOVER to {Target} time out exceeded, failing over.")]
    public static partial void FailoverForced(this ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Failover target {Target} is synced, failing over.")]
    public static partial void FailoverTargetSynced(this ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Failover to the new master completed.")]
    public static partial void FailoverCompleted(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FAILOVER aborted: {Reason}")]
    public static partial void FailoverAborted(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {Address} asks for synchronization")]
    public static partial void ReplicaAsksSync(this ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting BGSAVE for SYNC with target: {Target} ({Replicas} replicas waiting)")]
    public static partial void ReplicaSyncStarted(this ILogger logger, int replicas, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background snapshot for replicas failed: {Reason}")]
    public static partial void ReplicaSyncFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Synchronization with replica {Address} succeeded")]
    public static partial void ReplicaSynced(this ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Background saving started")]
    public static partial void BackgroundSaveStarted(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Background saving terminated with success")]
    public static partial void BackgroundSaveSucceeded(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background saving error: {Reason}")]
    public static partial void BackgroundSaveFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Changes} changes in {Seconds} seconds. Saving...")]
    public static partial void SavePointReached(this ILogger logger, long changes, long seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed opening the temp RDB file for saving: {Reason}")]
    public static partial void SaveFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading RDB produced by version {Version}. Done loading RDB, keys loaded: {Loaded}, keys expired: {Expired}. DB loaded from disk: {Seconds:F3} seconds")]
    public static partial void DbLoaded(this ILogger logger, string version, long loaded, long expired, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closing idle client: addr={Address}")]
    public static partial void ClosingIdleClient(this ILogger logger, string address);

    [LoggerMessage(Message = "{Message}")]
    public static partial void ScriptLog(this ILogger logger, LogLevel level, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow script detected: still in execution after {Milliseconds} milliseconds. You can try killing the script using the SCRIPT KILL command.")]
    public static partial void SlowScript(this ILogger logger, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void DebugLog(this ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Changing replication IDs after receiving DEBUG change-repl-id")]
    public static partial void ReplicationIdChanged(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} loaded by DEBUG {Command}")]
    public static partial void DebugReloaded(this ILogger logger, string what, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Structure}")]
    public static partial void DebugStructure(this ILogger logger, string structure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow script {Sha} finished; other clients are served again")]
    public static partial void SlowScriptEnded(this ILogger logger, string sha);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client addr={Address} closed for overcoming of output buffer limits ({Class} class, {Bytes} bytes waiting)")]
    public static partial void ClosingForOutputLimit(this ILogger logger, string address, string @class, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Background job '{Job}' failed; that job is abandoned and the server keeps serving")]
    public static partial void BackgroundJobFailed(this ILogger logger, Exception exception, string job);

    [LoggerMessage(Level = LogLevel.Error, Message = "Command '{Command}' failed; the client got an error reply and the server keeps serving")]
    public static partial void CommandFailed(this ILogger logger, Exception exception, string command);
}
