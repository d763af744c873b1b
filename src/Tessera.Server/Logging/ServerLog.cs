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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Automatic background saves (save points) and the AOF are not implemented yet: SAVE and SHUTDOWN write the snapshot")]
    public static partial void PersistenceNotImplemented(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Saving the final RDB snapshot before exiting.")]
    public static partial void SavingFinalSnapshot(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Error trying to save the DB, can't exit.")]
    public static partial void ShutdownSaveFailed(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "DB saved on disk")]
    public static partial void DbSaved(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed opening the temp RDB file for saving: {Reason}")]
    public static partial void SaveFailed(this ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading RDB produced by version {Version}. Done loading RDB, keys loaded: {Loaded}, keys expired: {Expired}. DB loaded from disk: {Seconds:F3} seconds")]
    public static partial void DbLoaded(this ILogger logger, string version, long loaded, long expired, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closing idle client: addr={Address}")]
    public static partial void ClosingIdleClient(this ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message}")]
    public static partial void ScriptLog(this ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow script detected: still in execution after {Milliseconds} milliseconds. You can try killing the script using the SCRIPT KILL command.")]
    public static partial void SlowScript(this ILogger logger, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow script {Sha} finished; other clients are served again")]
    public static partial void SlowScriptEnded(this ILogger logger, string sha);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client addr={Address} closed for overcoming of output buffer limits ({Bytes} bytes of pub/sub messages waiting)")]
    public static partial void ClosingSlowSubscriber(this ILogger logger, string address, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Command '{Command}' failed; the client got an error reply and the server keeps serving")]
    public static partial void CommandFailed(this ILogger logger, Exception exception, string command);
}
