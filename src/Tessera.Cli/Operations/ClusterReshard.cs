using System.Diagnostics;
using System.Globalization;
using System.Text;
using Tessera.Client;

namespace Tessera.Cli.Operations;

/// <summary>What a reshard did, for its summary line.</summary>
internal readonly record struct ReshardReport(int Slots, long Keys, TimeSpan Elapsed);

/// <summary>
/// Moves slots between masters of a running cluster, as <c>redis-cli --cluster reshard</c> does and with the same
/// steps per slot: the target IMPORTING, the source MIGRATING, the slot's keys moved in batches (GETKEYSINSLOT then
/// MIGRATE ... KEYS), then every master told the slot's new owner (SETSLOT NODE). Clients keep working meanwhile:
/// the source answers ASK for keys already moved. A progress line shows slots and keys moved.
/// </summary>
internal sealed class ClusterReshard(ClusterTopology cluster, TextWriter log, TimeSpan timeout)
{
    /// <summary>Keys per MIGRATE (redis-cli's --cluster-pipeline).</summary>
    public int Pipeline { get; init; } = 10;

    /// <summary>Overwrite keys that already exist on the target (redis-cli's --cluster-replace).</summary>
    public bool Replace { get; init; }

    /// <summary>
    /// Moves <paramref name="count"/> slots to <paramref name="target"/>, taken from <paramref name="sources"/> in
    /// proportion to the slots each serves (the lowest-numbered first), as redis-cli plans it.
    /// </summary>
    public ReshardReport Run(ClusterNodeInfo target, IReadOnlyList<ClusterNodeInfo> sources, int count)
    {
        var plan = Plan(sources, count);
        var clock = Stopwatch.StartNew();
        long keys = 0;
        for (var i = 0; i < plan.Count; i++)
        {
            var (source, slot) = plan[i];
            keys += MoveSlot(source, target, slot);
            // A progress line redrawn in place on a terminal; a line per 100 slots into a file or pipe.
            if (!Console.IsOutputRedirected && log == Console.Out)
            {
                log.Write($"\rMoved {i + 1}/{plan.Count} slots, {keys} keys");
            }
            else if ((i + 1) % 100 == 0 || i + 1 == plan.Count)
            {
                log.WriteLine($"Moved {i + 1}/{plan.Count} slots, {keys} keys");
            }
        }
        if (!Console.IsOutputRedirected && log == Console.Out)
        {
            log.WriteLine();
        }
        return new ReshardReport(plan.Count, keys, clock.Elapsed);
    }

    private List<(ClusterNodeInfo Source, int Slot)> Plan(IReadOnlyList<ClusterNodeInfo> sources, int count)
    {
        var total = sources.Sum(s => s.Slots.Count);
        if (total < count)
        {
            throw new InvalidOperationException($"the sources serve {total} slots, fewer than the {count} asked for");
        }
        var plan = new List<(ClusterNodeInfo, int)>();
        foreach (var source in sources.OrderByDescending(s => s.Slots.Count))
        {
            // Each source gives its share, rounded up for the first so the count is met.
            var share = (int)Math.Ceiling((double)count * source.Slots.Count / total);
            plan.AddRange(source.Slots.Take(Math.Min(share, count - plan.Count)).Select(slot => (source, slot)));
        }
        return plan;
    }

    /// <summary>
    /// MIGRATE of the keys <paramref name="source"/> holds in <paramref name="slot"/> to <paramref name="target"/>, in
    /// batches of <see cref="Pipeline"/>, until none is left; returns how many moved. The slot must be open on the
    /// source (MIGRATE of a slot a node does not serve runs only then, as in Redis).
    /// </summary>
    public long MigrateKeys(ClusterNodeInfo source, ClusterNodeInfo target, int slot, bool replace)
    {
        var from = cluster.Connection(source, timeout);
        var number = slot.ToString(CultureInfo.InvariantCulture);
        var (host, port) = RedisConnection.ParseEndpoint(target.Endpoint);
        long moved = 0;
        while (from.Execute("CLUSTER", "GETKEYSINSLOT", number, Pipeline.ToString(CultureInfo.InvariantCulture)).Items is { Count: > 0 } keys)
        {
            // Keys are bytes: they go back as they came, whatever their encoding.
            string[] options = ["MIGRATE", host, port.ToString(CultureInfo.InvariantCulture), "", "0",
                ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), .. replace ? ["REPLACE"] : Array.Empty<string>(), "KEYS"];
            from.Queue([.. options.Select(Encoding.UTF8.GetBytes), .. keys.Select(k => k.Bytes!)]);
            from.Flush();
            var reply = from.Read();
            if (reply.IsError)
            {
                throw new InvalidOperationException($"moving slot {slot} from {source.Endpoint} to {target.Endpoint}: {reply.Text}"
                    + (reply.Text!.Contains("BUSYKEY", StringComparison.Ordinal) ? " (use --replace to overwrite the target's keys)" : ""));
            }
            moved += keys.Count;
        }
        return moved;
    }

    /// <summary>Moves one slot and its keys (or finishes a move left half done); returns how many keys moved.</summary>
    public long MoveSlot(ClusterNodeInfo source, ClusterNodeInfo target, int slot)
    {
        var from = cluster.Connection(source, timeout);
        var to = cluster.Connection(target, timeout);
        var number = slot.ToString(CultureInfo.InvariantCulture);
        to.Execute("CLUSTER", "SETSLOT", number, "IMPORTING", source.Id);
        from.Execute("CLUSTER", "SETSLOT", number, "MIGRATING", target.Id);
        var moved = MigrateKeys(source, target, slot, Replace);
        // The target first: from then on it serves the slot, whatever the others still believe.
        foreach (var master in new[] { target, source }.Concat(cluster.Masters.Where(m => m.Id != target.Id && m.Id != source.Id && !m.Failing)))
        {
            var reply = cluster.Connection(master, timeout).Call("CLUSTER", "SETSLOT", number, "NODE", target.Id);
            // A source that gave away its last slot follows the new owner as a replica (Redis 7's replica migration):
            // it knows the owner already.
            if (reply.IsError && !(master == source && reply.Text!.Contains("only with masters", StringComparison.Ordinal)))
            {
                throw new RedisErrorException($"{master.Endpoint}: CLUSTER SETSLOT {number} NODE {target.Id}: {reply.Text}");
            }
        }
        return moved;
    }
}
