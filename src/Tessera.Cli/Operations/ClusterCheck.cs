namespace Tessera.Cli.Operations;

/// <summary>
/// The health report of <c>tessera cluster check</c> (what <c>redis-cli --cluster check</c> looks at): every node
/// reachable, all of them agreeing on who serves each slot, no slot left open by an interrupted migration, all
/// 16384 slots served, and no node failing. Also the per-master summary of <c>tessera cluster info</c>.
/// </summary>
internal static class ClusterCheck
{
    /// <summary>Writes the report; returns the number of problems found.</summary>
    public static int Run(ClusterTopology cluster, TextWriter log)
    {
        var problems = 0;
        void Problem(string text)
        {
            problems++;
            log.WriteLine("[ERR] " + text);
        }
        foreach (var node in cluster.Nodes.Where(n => !cluster.Views.ContainsKey(n.Endpoint)))
        {
            Problem($"Node {node.Endpoint} ({node.Id[..8]}) does not answer.");
        }
        var signatures = cluster.Views.Values.Select(Signature).Distinct().Count();
        if (signatures > 1)
        {
            Problem("Nodes don't agree about the slots configuration.");
        }
        else
        {
            log.WriteLine("[OK] All nodes agree about the slots configuration.");
        }
        var open = cluster.Nodes.Where(n => n.OpenSlots.Count > 0).ToList();
        foreach (var node in open)
        {
            Problem($"Node {node.Endpoint} has open slots: {string.Join(' ', node.OpenSlots)} (an interrupted reshard; finish it or SETSLOT STABLE).");
        }
        var covered = cluster.Masters.SelectMany(m => m.Slots).Distinct().Count();
        if (covered == 16384)
        {
            log.WriteLine("[OK] All 16384 slots covered.");
        }
        else
        {
            Problem($"Only {covered} of 16384 slots are covered by the masters.");
        }
        foreach (var node in cluster.Nodes.Where(n => n.Failing))
        {
            Problem($"Node {node.Endpoint} is flagged {node.Flags}.");
        }
        return problems;
    }

    /// <summary>One line per master with slots, keys and replicas, then the totals.</summary>
    public static void Info(ClusterTopology cluster, TextWriter log, TimeSpan timeout)
    {
        long keys = 0;
        foreach (var master in cluster.Masters.OrderBy(m => m.Slots.Count == 0 ? int.MaxValue : m.Slots.Min()))
        {
            var size = cluster.Views.ContainsKey(master.Endpoint) ? cluster.Connection(master, timeout).Execute("DBSIZE").Integer : 0;
            keys += size;
            var replicas = cluster.Nodes.Count(n => n.MasterId == master.Id);
            log.WriteLine($"{master.Endpoint} ({master.Id[..8]}...) -> {size} keys | {master.Slots.Count} slots | {replicas} replicas.");
        }
        var masters = cluster.Masters.Count();
        log.WriteLine($"[OK] {keys} keys in {masters} masters.");
        log.WriteLine($"{(masters == 0 ? 0 : keys / (double)masters):F2} keys per slot group.");
    }

    /// <summary>Who serves what, as one node sees it: "id slots..." of every master, sorted.</summary>
    private static string Signature(List<ClusterNodeInfo> view)
        => string.Join('|', view.Where(n => n.IsMaster && n.Slots.Count > 0).Select(n => n.Id + ":" + n.Slots.Count + ":" + n.Slots[0]).Order());
}
