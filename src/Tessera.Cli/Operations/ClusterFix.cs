using System.Globalization;
using Tessera.Core.Hashing;

namespace Tessera.Cli.Operations;

/// <summary>
/// Repairs what <see cref="ClusterCheck"/> finds after an interrupted reshard or lost slots, as
/// <c>redis-cli --cluster fix</c> does: a slot its owner was migrating to a node that imports it is moved there to
/// the end; any other open slot gets the keys other nodes hold moved back to its owner and is closed (STABLE) on
/// every node; a slot nobody serves goes to the master holding most of its keys (or, when none has any, to the
/// master with fewest slots), which bumps its config epoch so its claim wins, then takes the others' keys.
/// </summary>
internal sealed class ClusterFix(ClusterTopology cluster, ClusterReshard reshard, TextWriter log, TimeSpan timeout)
{
    /// <summary>
    /// Returns how many slots were repaired. Unserved slots come first: until every slot is served the cluster is
    /// down and refuses MIGRATE, which the other repairs need.
    /// </summary>
    public int Run()
    {
        var covered = cluster.Masters.SelectMany(m => m.Slots).ToHashSet();
        var claimed = new List<(int Slot, ClusterNodeInfo Owner)>();
        for (var slot = 0; slot < 16384; slot++)
        {
            if (!covered.Contains(slot))
            {
                claimed.Add((slot, Claim(slot)));
            }
        }
        foreach (var master in claimed.Select(c => c.Owner).Distinct())
        {
            cluster.Connection(master, timeout).Execute("CLUSTER", "BUMPEPOCH");
        }
        if (claimed.Count > 0)
        {
            Polling.WaitFor(() => cluster.Masters.All(m => cluster.Connection(m, timeout).ClusterInfo("cluster_state") == "ok"),
                timeout, "the cluster did not return to cluster_state:ok", TimeSpan.FromMilliseconds(100));
        }
        foreach (var (slot, owner) in claimed)
        {
            foreach (var other in cluster.Masters.Where(m => m.Id != owner.Id))
            {
                MoveKeys(other, owner, slot);
            }
        }
        var open = OpenSlots();
        foreach (var slot in open)
        {
            FixOpenSlot(slot);
        }
        return claimed.Count + open.Count;
    }

    /// <summary>The slots some node reports open, from the [slot->-id] and [slot-&lt;-id] marks of its own line.</summary>
    private SortedSet<int> OpenSlots() => [.. cluster.Nodes.SelectMany(n => n.OpenSlots).Select(mark => HashSlot.ParseOpenSlot(mark).Slot)];

    /// <summary>The nodes that mark <paramref name="slot"/> open, migrating or importing as asked.</summary>
    private List<ClusterNodeInfo> Opening(int slot, bool migrating)
        => [.. cluster.Nodes.Where(n => n.OpenSlots.Select(HashSlot.ParseOpenSlot).Any(o => o.Slot == slot && o.Migrating == migrating))];

    private void FixOpenSlot(int slot)
    {
        var number = slot.ToString(CultureInfo.InvariantCulture);
        // Unserved slots were given an owner first, so an open slot has one.
        var owner = cluster.Masters.First(m => m.Slots.Contains(slot));
        if (Opening(slot, migrating: true) is [var source] && source.Id == owner.Id && Opening(slot, migrating: false) is [var target])
        {
            log.WriteLine($"Slot {slot}: finishing its move from {owner.Endpoint} to {target.Endpoint}");
            reshard.MoveSlot(owner, target, slot);
            return;
        }
        log.WriteLine($"Slot {slot}: keys back to its owner {owner.Endpoint}, closed everywhere");
        foreach (var node in cluster.Masters.Where(m => m.Id != owner.Id))
        {
            MoveKeys(node, owner, slot);
        }
        foreach (var node in cluster.Nodes.Where(n => cluster.Views.ContainsKey(n.Endpoint) && n.IsMaster))
        {
            cluster.Connection(node, timeout).Execute("CLUSTER", "SETSLOT", number, "STABLE");
        }
    }

    /// <summary>Gives an unserved slot to the master with most of its keys (or the fewest slots); returns it.</summary>
    private ClusterNodeInfo Claim(int slot)
    {
        var number = slot.ToString(CultureInfo.InvariantCulture);
        var counts = cluster.Masters.ToDictionary(m => m, m => cluster.Connection(m, timeout).Execute("CLUSTER", "COUNTKEYSINSLOT", number).Integer);
        var owner = counts.Values.Any(c => c > 0) ? counts.MaxBy(c => c.Value).Key : cluster.Masters.MinBy(m => m.Slots.Count)!;
        log.WriteLine($"Slot {slot}: served by nobody, given to {owner.Endpoint}");
        var connection = cluster.Connection(owner, timeout);
        connection.Execute("CLUSTER", "SETSLOT", number, "STABLE");
        connection.Execute("CLUSTER", "ADDSLOTS", number);
        owner.Slots.Add(slot);
        return owner;
    }

    /// <summary>
    /// Moves every key <paramref name="from"/> holds in <paramref name="slot"/> to <paramref name="to"/>, with REPLACE,
    /// so a moved copy overwrites one the owner holds under the same name. A node that does not serve the slot runs MIGRATE only while
    /// the slot is open there, so it is opened (IMPORTING) for the move and closed after.
    /// </summary>
    private void MoveKeys(ClusterNodeInfo from, ClusterNodeInfo to, int slot)
    {
        var number = slot.ToString(CultureInfo.InvariantCulture);
        var connection = cluster.Connection(from, timeout);
        if (connection.Execute("CLUSTER", "COUNTKEYSINSLOT", number).Integer == 0)
        {
            return;
        }
        connection.Execute("CLUSTER", "SETSLOT", number, "IMPORTING", to.Id);
        reshard.MigrateKeys(from, to, slot, replace: true);
        connection.Execute("CLUSTER", "SETSLOT", number, "STABLE");
    }
}
