using Tessera.Server.Storage;

namespace Tessera.Server;

public sealed partial class TesseraServer
{
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
}
