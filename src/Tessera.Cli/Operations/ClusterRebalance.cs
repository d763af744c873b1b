namespace Tessera.Cli.Operations;

/// <summary>
/// Evens out slots between masters as <c>redis-cli --cluster rebalance</c> does: each master's due share is 16384
/// times its weight (1 unless given; 0 empties a node) over the total; when some master is off its share by more than
/// the threshold (percent), slots move from the masters with the most surplus to those with the largest deficit,
/// pair by pair, through <see cref="ClusterReshard"/>. Masters without slots take part only with
/// <c>useEmptyMasters</c> (or a weight of their own).
/// </summary>
internal static class ClusterRebalance
{
    /// <summary>Returns the number of slots moved (0 when the cluster was balanced within the threshold).</summary>
    public static int Run(ClusterTopology cluster, ClusterReshard reshard, IReadOnlyDictionary<string, double> weights, bool useEmptyMasters,
        double thresholdPercent, TextWriter log)
    {
        double? GivenWeight(ClusterNodeInfo node)
            => weights.Where(w => node.Id.StartsWith(w.Key, StringComparison.Ordinal) || node.Endpoint == w.Key).Select(w => (double?)w.Value).FirstOrDefault();
        double WeightOf(ClusterNodeInfo node) => GivenWeight(node) ?? 1;
        var masters = cluster.Masters.Where(m => m.Slots.Count > 0 || useEmptyMasters || GivenWeight(m) is not null).ToList();
        var total = masters.Sum(WeightOf);
        if (total <= 0)
        {
            throw new InvalidOperationException("the weights leave no master to hold the slots");
        }
        // Balance: positive = slots to give away, negative = slots to receive.
        var balance = masters.ToDictionary(m => m, m => m.Slots.Count - (int)(16384 * WeightOf(m) / total));
        var off = masters.Any(m =>
        {
            var due = 16384 * WeightOf(m) / total;
            return due == 0 ? m.Slots.Count > 0 : Math.Abs(m.Slots.Count - due) / due * 100 > thresholdPercent;
        });
        if (!off)
        {
            log.WriteLine($"No rebalancing needed: every master is within {thresholdPercent}% of its share.");
            return 0;
        }
        // Rounding leaves a few slots unassigned: the largest receiver takes them, so the sums match.
        var rest = balance.Values.Sum();
        if (rest != 0)
        {
            var receiver = balance.OrderBy(b => b.Value).First().Key;
            balance[receiver] -= rest;
        }
        var moved = 0;
        while (true)
        {
            var giver = balance.OrderByDescending(b => b.Value).First();
            var taker = balance.OrderBy(b => b.Value).First();
            var count = Math.Min(giver.Value, -taker.Value);
            if (count <= 0)
            {
                break;
            }
            log.WriteLine($"Moving {count} slots from {giver.Key.Endpoint} to {taker.Key.Endpoint}");
            var report = reshard.Run(taker.Key, [giver.Key], count);
            // The giver's slot list is what the next plan reads: drop the slots it gave.
            giver.Key.Slots.RemoveRange(0, count);
            moved += report.Slots;
            balance[giver.Key] -= count;
            balance[taker.Key] += count;
        }
        return moved;
    }
}
