using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// SRANDMEMBER, ZRANDMEMBER and HRANDFIELD pick elements uniformly, checked as Redis's suite checks it: a
/// chi-square over ten elements (9 degrees of freedom, 40 is a 0.00001 probability) for a negative count and for
/// repeated positive counts of 8 and 2, in both encodings of each type.
/// </summary>
public sealed class RandomDistributionTests
{
    private const double ChiSquareLimit = 40;

    public static TheoryData<string, string> Collections() => new()
    {
        { "set", "intset" },
        { "set", "hashtable" },
        { "zset", "listpack" },
        { "zset", "skiplist" },
        { "hash", "listpack" },
        { "hash", "hashtable" },
    };

    [Theory]
    [MemberData(nameof(Collections))]
    public void Picks_are_uniform(string type, string encoding)
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var big = encoding is "hashtable" or "skiplist";
        var members = Enumerable.Range(0, 10).Select(i => type == "set" && !big ? i.ToString(CultureInfo.InvariantCulture) : "member:" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (big)
        {
            // A table of ten with slots to spare: the walk-from-a-random-slot bias would show.
            client.Call("CONFIG", "SET", type == "hash" ? "hash-max-listpack-entries" : "zset-max-listpack-entries", "2");
        }
        foreach (var member in members)
        {
            client.Call(type switch
            {
                "set" => ["SADD", "k", member],
                "zset" => ["ZADD", "k", "1", member],
                _ => ["HSET", "k", member, "v"],
            });
        }
        Assert.Equal(encoding, client.Call("OBJECT", "ENCODING", "k").Text);
        var command = type switch { "set" => "SRANDMEMBER", "zset" => "ZRANDMEMBER", _ => "HRANDFIELD" };

        var drawn = client.Call(command, "k", "-1000").Items.Select(i => i.Text!).ToList();
        Assert.True(ChiSquare(drawn) < ChiSquareLimit, $"{command} -1000: chi-square {ChiSquare(drawn)}");
        foreach (var size in new[] { 8, 2 })
        {
            var all = new List<string>();
            for (var i = 0; i < 1000 / size; i++)
            {
                var picked = client.Call(command, "k", size.ToString(CultureInfo.InvariantCulture)).Items.Select(x => x.Text!).ToList();
                Assert.Equal(size, picked.Distinct().Count());
                all.AddRange(picked);
            }
            Assert.True(ChiSquare(all) < ChiSquareLimit, $"{command} {size}: chi-square {ChiSquare(all)}");
        }
    }

    /// <summary>Redis's chi_square_value: the expected count is the integer mean, as its test computes it.</summary>
    private static double ChiSquare(List<string> drawn)
    {
        var counts = drawn.GroupBy(d => d).Select(g => g.Count()).ToList();
        var expected = drawn.Count / counts.Count;
        return counts.Sum(c => Math.Pow(c - expected, 2) / expected);
    }
}
