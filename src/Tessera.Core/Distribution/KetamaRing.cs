using System.Text;
using Tessera.Core.Hashing;

namespace Tessera.Core.Distribution;

/// <summary>
/// twemproxy's ketama continuum: each live server gets points in proportion to its weight (160 at equal weight),
/// four per MD5 digest of "name-i"; a key goes to the first point at or above its hash, wrapping to the first.
/// </summary>
public sealed class KetamaRing
{
    private const int PointsPerServer = 160;
    private const int PointsPerDigest = 4;

    private readonly uint[] _values;
    private readonly int[] _servers;

    private KetamaRing(uint[] values, int[] servers)
    {
        _values = values;
        _servers = servers;
    }

    /// <summary>Number of points on the ring.</summary>
    public int Count => _values.Length;

    /// <summary>Builds the ring from <paramref name="live"/> servers (in pool order).</summary>
    public static KetamaRing Build(IReadOnlyList<WeightedServer> live)
    {
        long totalWeight = 0;
        foreach (var server in live)
        {
            totalWeight += server.Weight;
        }
        var points = new List<(uint Value, int Server)>(live.Count * PointsPerServer);
        Span<byte> name = stackalloc byte[256];
        foreach (var server in live)
        {
            // Single-precision arithmetic, as twemproxy's floorf over a float share, so weighted rings match.
            var share = server.Weight / (float)totalWeight;
            var scaled = share * PointsPerServer / PointsPerDigest * live.Count;
            var digests = (int)MathF.Floor((float)(scaled + 0.0000000001));
            for (var i = 0; i < digests; i++)
            {
                var length = Encoding.ASCII.GetBytes($"{server.Name}-{i}", name);
                for (var word = 0; word < PointsPerDigest; word++)
                {
                    points.Add((NutcrackerHash.Md5Word(name[..length], word), server.Index));
                }
            }
        }
        points.Sort((x, y) => x.Value.CompareTo(y.Value));
        return new KetamaRing([.. points.Select(p => p.Value)], [.. points.Select(p => p.Server)]);
    }

    /// <summary>The server index for <paramref name="hash"/>.</summary>
    public int Locate(uint hash)
    {
        var at = LowerBound(_values, hash);
        return _servers[at == _values.Length ? 0 : at];
    }

    private static int LowerBound(uint[] values, uint hash)
    {
        int left = 0, right = values.Length;
        while (left < right)
        {
            var middle = left + ((right - left) / 2);
            if (values[middle] < hash)
            {
                left = middle + 1;
            }
            else
            {
                right = middle;
            }
        }
        return left;
    }
}
