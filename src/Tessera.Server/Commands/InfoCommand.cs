using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>
/// INFO in Redis's format and field names ("# Section" headers, "field:value" lines, CRLF), with the same
/// section selection: default, all, everything, or named sections. Tessera-specific fields are prefixed
/// "tessera_".
/// </summary>
internal static class InfoCommand
{
    private static readonly string[] DefaultSections =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];

    private static readonly string[] AllSections =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"];

    public static void Register(CommandRegistry r) => r.Add("info", Info);

    private static void Info(CommandContext c)
    {
        var wanted = new List<string>();
        if (c.ArgCount == 1)
        {
            wanted.AddRange(DefaultSections);
        }
        for (var i = 1; i < c.ArgCount; i++)
        {
            var name = Encoding.UTF8.GetString(c.Arg(i)).ToLowerInvariant();
            wanted.AddRange(name switch
            {
                "default" => DefaultSections,
                "all" or "everything" => AllSections,
                _ => [name],
            });
        }
        var text = new StringBuilder();
        foreach (var section in AllSections.Where(wanted.Contains))
        {
            if (text.Length > 0)
            {
                text.Append("\r\n");
            }
            text.Append("# ").Append(section == "cpu" ? "CPU" : char.ToUpperInvariant(section[0]) + section[1..]).Append("\r\n");
            Section(c.Server, c.Session, section, text);
        }
        c.Reply.WriteVerbatim(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static void Section(TesseraServer server, ClientSession session, string name, StringBuilder text)
    {
        void Field(string field, object value) => text.Append(field).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");
        switch (name)
        {
            case "server":
                var uptime = (Environment.TickCount64 - server.StartedAtMs) / 1000;
                Field("redis_version", ServerOptions.RedisVersion);
                Field("redis_git_sha1", "00000000");
                Field("redis_git_dirty", 0);
                Field("redis_build_id", "0");
                Field("redis_mode", server.Cluster is null ? "standalone" : "cluster");
                Field("tessera_version", ServerOptions.Version);
                Field("os", $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}");
                Field("arch_bits", IntPtr.Size * 8);
                Field("monotonic_clock", "POSIX clock_gettime");
                Field("multiplexing_api", "epoll");
                Field("atomicvar_api", "c11-builtin");
                Field("gcc_version", "0.0.0");
                Field("process_id", Environment.ProcessId);
                Field("process_supervised", "no");
                Field("run_id", server.RunId);
                Field("tcp_port", server.Port);
                Field("server_time_usec", (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10);
                Field("uptime_in_seconds", uptime);
                Field("uptime_in_days", uptime / 86400);
                Field("hz", server.Config.Hz.Value);
                Field("configured_hz", server.Config.Hz.Value);
                Field("lru_clock", Storage.KeyMeta.LruClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
                Field("executable", Environment.ProcessPath ?? "");
                Field("config_file", server.ConfigFile ?? "");
                Field("io_threads_active", 0);
                break;
            case "clients":
                Field("connected_clients", server.Clients.Count);
                Field("cluster_connections", server.Cluster is { } cluster ? (cluster.KnownNodes - 1) * 2 : 0);
                Field("maxclients", server.Config.MaxClients.Value);
                Field("client_recent_max_input_buffer", server.Clients.All.Select(s => s.InputCapacity).DefaultIfEmpty(0).Max());
                Field("client_recent_max_output_buffer", server.Clients.All.Select(s => s.Output.Length).DefaultIfEmpty(0).Max());
                Field("blocked_clients", server.Blocking.Count + server.Replication.WaitingClients + server.ClientPause.PostponedCount);
                Field("tracking_clients", server.Tracking.Clients);
                Field("clients_in_timeout_table", server.Blocking.WithTimeoutCount);
                break;
            case "memory":
                MemorySection(server, Field);
                break;
            case "persistence":
                var loading = server.Loading;
                Field("loading", loading.Active ? 1 : 0);
                Field("async_loading", 0);
                if (loading.Active)
                {
                    var done = loading.TotalBytes == 0 ? 0 : loading.LoadedBytes * 100.0 / loading.TotalBytes;
                    var rate = loading.LoadedBytes / Math.Max(loading.ElapsedSeconds, 0.001);
                    Field("loading_start_time", loading.StartUnix);
                    Field("loading_total_bytes", loading.TotalBytes);
                    Field("loading_rdb_used_mem", 0);
                    Field("loading_loaded_bytes", loading.LoadedBytes);
                    Field("loading_loaded_perc", done.ToString("F2", CultureInfo.InvariantCulture));
                    Field("loading_eta_seconds", rate <= 0 ? 1 : (long)((loading.TotalBytes - loading.LoadedBytes) / rate));
                }
                var background = server.Keyspace.Snapshot;
                Field("current_cow_peak", background?.CopiedBytes ?? 0);
                Field("current_cow_size", background?.CopiedBytes ?? 0);
                Field("current_cow_size_age", 0);
                Field("current_fork_perc", background is null ? "0.00" : Percent(background.KeysProcessed, background.Keys.Sum()));
                Field("current_save_keys_processed", background?.KeysProcessed ?? 0);
                Field("current_save_keys_total", background?.Keys.Sum() ?? 0);
                Field("rdb_changes_since_last_save", server.Changes.Dirty);
                Field("rdb_bgsave_in_progress", server.Snapshots.Background is null ? 0 : 1);
                Field("rdb_last_save_time", server.Snapshots.LastSaveUnix);
                Field("rdb_last_bgsave_status", server.Snapshots.LastBackground.LastSucceeded ? "ok" : "err");
                Field("rdb_last_bgsave_time_sec", server.Snapshots.LastBackground.LastSeconds);
                Field("rdb_current_bgsave_time_sec", server.Snapshots.Background is { } save ? (long)save.Elapsed.Elapsed.TotalSeconds : -1);
                Field("rdb_saves", server.Snapshots.Saves);
                Field("rdb_last_cow_size", server.Snapshots.LastBackground.LastCopiedBytes);
                Field("rdb_last_load_keys_expired", server.Snapshots.LastLoad.KeysExpired);
                Field("rdb_last_load_keys_loaded", server.Snapshots.LastLoad.KeysLoaded);
                var aof = server.Aof;
                Field("aof_enabled", aof.Enabled ? 1 : 0);
                Field("aof_rewrite_in_progress", aof.Rewrite is null ? 0 : 1);
                Field("aof_rewrite_scheduled", aof.RewriteScheduled ? 1 : 0);
                Field("aof_last_rewrite_time_sec", aof.LastRewrite.LastSeconds);
                Field("aof_current_rewrite_time_sec", aof.Rewrite is { } rewrite ? (long)rewrite.Elapsed.Elapsed.TotalSeconds : -1);
                Field("aof_last_bgrewrite_status", aof.LastRewrite.LastSucceeded ? "ok" : "err");
                Field("aof_rewrites", aof.Rewrites);
                Field("aof_rewrites_consecutive_failures", 0);
                Field("aof_last_write_status", aof.LastWriteSucceeded ? "ok" : "err");
                Field("aof_last_cow_size", aof.LastRewrite.LastCopiedBytes);
                Field("module_fork_in_progress", 0);
                Field("module_fork_last_cow_size", 0);
                if (aof.Enabled)
                {
                    Field("aof_current_size", aof.CurrentSize);
                    Field("aof_base_size", aof.BaseSize);
                    Field("aof_pending_rewrite", aof.RewriteScheduled ? 1 : 0);
                    Field("aof_buffer_length", aof.BufferLength);
                    Field("aof_pending_bio_fsync", 0);
                    Field("aof_delayed_fsync", 0);
                }
                break;
            case "stats":
                var keyspace = server.Keyspace;
                Field("total_connections_received", server.Clients.ConnectionsReceived);
                Field("total_commands_processed", server.Stats.CommandsProcessed);
                Field("instantaneous_ops_per_sec", server.Stats.InstantaneousOpsPerSecond);
                Field("total_net_input_bytes", server.NetInputBytes);
                Field("total_net_output_bytes", server.NetOutputBytes);
                Field("total_net_repl_input_bytes", 0);
                Field("total_net_repl_output_bytes", 0);
                Field("instantaneous_input_kbps", (server.Stats.InstantaneousInputPerSecond / 1024).ToString("F2", CultureInfo.InvariantCulture));
                Field("instantaneous_output_kbps", (server.Stats.InstantaneousOutputPerSecond / 1024).ToString("F2", CultureInfo.InvariantCulture));
                Field("instantaneous_input_repl_kbps", "0.00");
                Field("instantaneous_output_repl_kbps", "0.00");
                Field("rejected_connections", server.Clients.RejectedConnections);
                Field("sync_full", server.Replication.FullSyncs);
                Field("sync_partial_ok", server.Replication.PartialSyncs);
                Field("sync_partial_err", server.Replication.PartialSyncsRefused);
                Field("expired_keys", keyspace.ExpiredKeys);
                Field("expired_stale_perc", (keyspace.ExpiredStaleShare * 100).ToString("F2", CultureInfo.InvariantCulture));
                Field("expired_time_cap_reached_count", keyspace.ExpireTimeCapReached);
                Field("expire_cycle_cpu_milliseconds", (long)keyspace.ExpireCycleTime.TotalMilliseconds);
                Field("evicted_keys", keyspace.EvictedKeys);
                Field("evicted_clients", 0);
                Field("total_eviction_exceeded_time", 0);
                Field("current_eviction_exceeded_time", 0);
                Field("keyspace_hits", keyspace.KeyspaceHits);
                Field("keyspace_misses", keyspace.KeyspaceMisses);
                Field("pubsub_channels", server.PubSub.Count(SubscriptionKind.Channel));
                Field("pubsub_patterns", server.PubSub.Count(SubscriptionKind.Pattern));
                Field("pubsubshard_channels", server.PubSub.Count(SubscriptionKind.ShardChannel));
                Field("latest_fork_usec", server.Stats.LatestForkMicros);
                Field("total_forks", server.Stats.TotalForks);
                Field("migrate_cached_sockets", 0);
                Field("slave_expires_tracked_keys", 0);
                Field("active_defrag_hits", 0);
                Field("active_defrag_misses", 0);
                Field("active_defrag_key_hits", 0);
                Field("active_defrag_key_misses", 0);
                Field("total_active_defrag_time", 0);
                Field("current_active_defrag_time", 0);
                Field("tracking_total_keys", server.Tracking.Keys);
                Field("tracking_total_items", server.Tracking.Items);
                Field("tracking_total_prefixes", server.Tracking.Prefixes);
                Field("unexpected_error_replies", 0);
                Field("total_error_replies", server.Stats.TotalErrorReplies);
                Field("dump_payload_sanitizations", server.Stats.DumpPayloadSanitizations);
                Field("total_reads_processed", 0);
                Field("total_writes_processed", 0);
                Field("io_threaded_reads_processed", 0);
                Field("io_threaded_writes_processed", 0);
                Field("reply_buffer_shrinks", 0);
                Field("reply_buffer_expands", 0);
                break;
            case "replication":
                var replication = server.Replication;
                if (replication.Link is { } masterLink)
                {
                    Field("role", "slave");
                    Field("master_host", masterLink.Host);
                    Field("master_port", masterLink.Port);
                    Field("master_link_status", masterLink.State == Replication.MasterLinkState.Connected ? "up" : "down");
                    Field("master_last_io_seconds_ago", (Environment.TickCount64 - masterLink.LastIoMs) / 1000);
                    Field("master_sync_in_progress", masterLink.State == Replication.MasterLinkState.Syncing ? 1 : 0);
                    Field("slave_read_repl_offset", replication.Offset);
                    Field("slave_repl_offset", replication.Offset);
                    Field("slave_priority", server.Config.ReplicaPriority.Value);
                    Field("slave_read_only", server.Config.ReplicaReadOnly.Value ? 1 : 0);
                    Field("replica_announced", 1);
                }
                else
                {
                    Field("role", "master");
                }
                Field("connected_slaves", replication.Replicas.Count);
                if (server.Config.MinReplicasToWrite.Value > 0 && server.Config.MinReplicasMaxLag.Value > 0)
                {
                    Field("min_slaves_good_slaves", replication.GoodReplicas);
                }
                for (var i = 0; i < replication.Replicas.Count; i++)
                {
                    var link = replication.Replicas[i];
                    var state = link.State switch
                    {
                        Replication.ReplicaState.Online or Replication.ReplicaState.AwaitingAck => "online",
                        Replication.ReplicaState.SendingSnapshot => "send_bulk",
                        _ => "wait_bgsave",
                    };
                    Field("slave" + i.ToString(CultureInfo.InvariantCulture),
                        $"ip={link.AnnouncedHost},port={link.Session.ReplicaListeningPort},state={state},offset={link.AckOffset},lag={(Environment.TickCount64 - link.AckMs) / 1000}");
                }
                Field("master_failover_state", server.Failover.StateName);
                Field("master_replid", replication.ReplicationId);
                Field("master_replid2", replication.PreviousReplicationId);
                Field("master_repl_offset", replication.Offset);
                Field("second_repl_offset", replication.PreviousIdValidUpTo);
                var backlog = replication.Backlog;
                Field("repl_backlog_active", backlog is null ? 0 : 1);
                Field("repl_backlog_size", backlog?.Size ?? server.Config.ReplBacklogSize.Value);
                Field("repl_backlog_first_byte_offset", backlog?.FirstOffset ?? 0);
                Field("repl_backlog_histlen", backlog?.Length ?? 0);
                break;
            case "cpu":
                using (var process = Process.GetCurrentProcess())
                {
                    Field("used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
                    Field("used_cpu_user", process.UserProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
                    Field("used_cpu_sys_children", "0.000000");
                    Field("used_cpu_user_children", "0.000000");
                    Field("used_cpu_sys_main_thread", process.PrivilegedProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
                    Field("used_cpu_user_main_thread", process.UserProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
                }
                break;
            case "commandstats":
                foreach (var command in AllCommands(server).Where(x => x.Calls > 0 || x.RejectedCalls > 0))
                {
                    var perCall = command.Calls == 0 ? 0 : (double)command.Microseconds / command.Calls;
                    Field("cmdstat_" + command.Info.FullName,
                        $"calls={command.Calls},usec={command.Microseconds},usec_per_call={perCall.ToString("F2", CultureInfo.InvariantCulture)},rejected_calls={command.RejectedCalls},failed_calls={command.FailedCalls}");
                }
                break;
            case "errorstats":
                foreach (var (code, count) in server.Stats.Errors)
                {
                    Field("errorstat_" + code, "count=" + count);
                }
                break;
            case "latencystats":
                var percentiles = server.Config.LatencyTrackingInfoPercentiles;
                foreach (var command in AllCommands(server).Where(x => x.Latency is { Count: > 0 }))
                {
                    var values = percentiles.Select(p =>
                        $"p{p.ToString("0.######", CultureInfo.InvariantCulture)}={(command.Latency!.Percentile(p) / 1000.0).ToString("F3", CultureInfo.InvariantCulture)}");
                    Field("latency_percentiles_usec_" + command.Info.FullName, string.Join(',', values));
                }
                break;
            case "cluster":
                Field("cluster_enabled", server.Cluster is null ? 0 : 1);
                break;
            case "keyspace":
                foreach (var db in server.Keyspace.Databases.Where(d => d.Count > 0))
                {
                    Field("db" + db.Index, $"keys={db.Count},expires={db.VolatileCount},avg_ttl={db.AverageTtl}");
                }
                break;
        }
    }

    private static void MemorySection(TesseraServer server, Action<string, object> field)
    {
        var used = server.UsedMemory();
        var rss = Environment.WorkingSet;
        var peak = Math.Max(used, server.PeakMemory);
        var dataset = server.Keyspace.UsedMemory;
        var maxMemory = server.Config.MaxMemory.Value;
        var totalSystem = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var gcHeap = GC.GetTotalMemory(forceFullCollection: false);
        field("used_memory", used);
        field("used_memory_human", Human(used));
        field("used_memory_rss", rss);
        field("used_memory_rss_human", Human(rss));
        field("used_memory_peak", peak);
        field("used_memory_peak_human", Human(peak));
        field("used_memory_peak_perc", (100.0 * used / Math.Max(1, peak)).ToString("F2", CultureInfo.InvariantCulture) + "%");
        field("used_memory_overhead", used - dataset);
        field("used_memory_startup", server.BaselineMemory);
        field("used_memory_dataset", dataset);
        field("used_memory_dataset_perc", (100.0 * dataset / Math.Max(1, used)).ToString("F2", CultureInfo.InvariantCulture) + "%");
        field("allocator_allocated", gcHeap);
        field("allocator_active", GC.GetGCMemoryInfo().TotalCommittedBytes);
        field("allocator_resident", rss);
        field("total_system_memory", totalSystem);
        field("total_system_memory_human", Human(totalSystem));
        // One Lua state runs scripts and functions here (Redis has one each): its memory counts as the scripts'.
        var scripts = server.ScriptsIfStarted;
        var lua = scripts?.LuaMemory ?? 0;
        field("used_memory_lua", lua);
        field("used_memory_vm_eval", lua);
        field("used_memory_lua_human", Human(lua));
        field("used_memory_scripts_eval", 0);
        field("number_of_cached_scripts", server.CachedScripts);
        field("number_of_functions", scripts?.Libraries.Sum(l => l.Functions.Count) ?? 0);
        field("number_of_libraries", scripts?.Libraries.Count() ?? 0);
        field("used_memory_vm_functions", 0);
        field("used_memory_vm_total", lua);
        field("used_memory_vm_total_human", Human(lua));
        field("used_memory_functions", 0);
        field("used_memory_scripts", 0);
        field("used_memory_scripts_human", "0B");
        field("maxmemory", maxMemory);
        field("maxmemory_human", Human(maxMemory));
        field("maxmemory_policy", server.Config.MaxMemoryPolicy.Value);
        field("mem_fragmentation_ratio", ((double)rss / Math.Max(1, used)).ToString("F2", CultureInfo.InvariantCulture));
        field("mem_fragmentation_bytes", rss - used);
        field("mem_not_counted_for_evict", 0);
        field("mem_replication_backlog", 0);
        field("mem_total_replication_buffers", 0);
        field("mem_clients_slaves", 0);
        field("mem_clients_normal", server.ClientBufferBytes());
        field("mem_cluster_links", 0);
        field("mem_aof_buffer", 0);
        field("mem_allocator", ".NET GC");
        field("active_defrag_running", 0);
        field("lazyfree_pending_objects", 0);
        field("lazyfreed_objects", 0);
    }

    private static IEnumerable<ServerCommand> AllCommands(TesseraServer server)
        => server.Commands.All.SelectMany(x => x.Subcommands.Count > 0 ? [x, .. x.Subcommands.Values] : new[] { x });

    /// <summary>Redis's bytesToHuman: B, K, M, G, T, P with two decimals.</summary>
    /// <summary>A share as Redis prints current_fork_perc: two decimals, 0.00 of nothing.</summary>
    private static string Percent(long part, long whole)
        => (whole == 0 ? 0 : part * 100.0 / whole).ToString("F2", CultureInfo.InvariantCulture);

    internal static string Human(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T", "P"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + "B" : value.ToString("F2", CultureInfo.InvariantCulture) + units[unit];
    }
}
