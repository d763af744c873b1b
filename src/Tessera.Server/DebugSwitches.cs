namespace Tessera.Server;

/// <summary>
/// The node's behaviours DEBUG switches for tests (Redis's skip_checksum_validation, pause_cron,
/// script_disable_deny_script, aof_flush_sleep, cluster_drop_packet_filter), read where they apply.
/// </summary>
internal sealed class DebugSwitches
{
    /// <summary>DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and RDB files are read without checking their CRC-64.</summary>
    public bool SkipChecksumValidation { get; set; }

    /// <summary>DEBUG PAUSE-CRON: the periodic work (expiry, saves, replication and cluster timers) stops.</summary>
    public bool PauseCron { get; set; }

    /// <summary>DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call the commands that are otherwise refused to them.</summary>
    public bool AllowNoScriptCommands { get; set; }

    /// <summary>DEBUG AOF-FLUSH-SLEEP: microseconds the AOF waits before writing its buffer out.</summary>
    public long AofFlushSleepMicroseconds { get; set; }

    /// <summary>DEBUG DROP-CLUSTER-PACKET-FILTER: the cluster bus message type (Redis's numbers) dropped on arrival, or -1.</summary>
    public long DroppedClusterPacketType { get; set; } = -1;
}
