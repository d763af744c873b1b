using Microsoft.Extensions.Logging;

namespace Tessera.Cluster;

/// <summary>The cluster part's log messages, source-generated so a disabled level costs nothing.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping packet that matches debug drop filter")]
    public static partial void ClusterPacketDropped(this ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cluster bus job '{Job}' failed; that job is abandoned and the node keeps serving")]
    public static partial void BusJobFailed(this ILogger logger, Exception exception, string job);
}
