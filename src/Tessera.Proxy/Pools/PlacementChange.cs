using System.Text;

namespace Tessera.Proxy.Pools;

/// <summary>
/// What a reload does to a pool's key placement, for the log: the share of keys that now map to another backend,
/// measured on a fixed sample of key names (the proxy does not know the real keys; the share carries over).
/// </summary>
public static class PlacementChange
{
    private const int SampleKeys = 100_000;

    /// <summary>One line: servers before and after, and the share of sampled keys that move.</summary>
    public static string Describe(ServerPool? before, ServerPool after)
    {
        if (before is null)
        {
            return $"pool '{after.Name}' added with {after.Backends.Count} servers";
        }
        if (after.Cluster is not null)
        {
            return $"pool '{after.Name}' fronts a cluster of {after.Cluster.Masters.Count} masters (placement follows the cluster)";
        }
        var moved = MovedShare(before, after);
        return $"pool '{after.Name}': {before.Backends.Count} -> {after.Backends.Count} servers, {moved * SampleKeys:F0} of {SampleKeys} sampled keys ({moved * 100:F2}%) change backend";
    }

    /// <summary>The share of sampled keys whose backend (by address) differs between the two pools.</summary>
    public static double MovedShare(ServerPool before, ServerPool after)
    {
        var oldPlacement = before.Placement;
        var newPlacement = after.Placement;
        Span<byte> key = stackalloc byte[32];
        var moved = 0;
        for (var i = 0; i < SampleKeys; i++)
        {
            var length = Encoding.ASCII.GetBytes($"key:{i}", key);
            var from = oldPlacement.Locate(key[..length]);
            var to = newPlacement.Locate(key[..length]);
            if (from < 0 || to < 0 || before.Backends[from].Config.Address != after.Backends[to].Config.Address)
            {
                moved++;
            }
        }
        return moved / (double)SampleKeys;
    }
}
