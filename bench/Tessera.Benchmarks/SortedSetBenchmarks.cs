using System.Globalization;
using BenchmarkDotNet.Attributes;

namespace Tessera.Benchmarks;

/// <summary>
/// ZADD (moving an existing member to a new score), ZRANK and ZRANGE (ten members from a random rank) on one
/// sorted set of 10,000 to 1,000,000 members, through a client session. The skip list makes each logarithmic: a
/// hundredfold larger set costs a few more levels per call (and cache misses), never a hundred times more.
/// </summary>
[MemoryDiagnoser]
public class SortedSetBenchmarks
{
    private const int RequestRing = 1024; // a power of two, masked

    private BenchSession _bench = null!;
    private byte[][] _zadd = [];
    private byte[][] _zrank = [];
    private byte[][] _zrange = [];
    private int _next;

    [Params(10_000, 100_000, 1_000_000)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bench = new BenchSession();
        const int batch = 1000;
        for (var start = 0; start < Members; start += batch)
        {
            List<string> args = ["ZADD", "zset"];
            for (var i = start; i < start + batch; i++)
            {
                args.Add(Text(i * 7919L % (10L * Members)));
                args.Add(Member(i));
            }
            _bench.Run(BenchSession.Command(args));
        }
        // Random members and ranks, so the calls walk the whole set rather than one cached path.
        var random = new Random(7);
        _zadd = new byte[RequestRing][];
        _zrank = new byte[RequestRing][];
        _zrange = new byte[RequestRing][];
        for (var i = 0; i < RequestRing; i++)
        {
            var member = Member(random.Next(Members));
            var rank = random.Next(Members - 10);
            _zadd[i] = BenchSession.Command("ZADD", "zset", Text(random.Next(10 * Members)), member);
            _zrank[i] = BenchSession.Command("ZRANK", "zset", member);
            _zrange[i] = BenchSession.Command("ZRANGE", "zset", Text(rank), Text(rank + 9));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark]
    public long ZAdd() => _bench.Run(_zadd[_next++ & (RequestRing - 1)]);

    [Benchmark]
    public long ZRank() => _bench.Run(_zrank[_next++ & (RequestRing - 1)]);

    [Benchmark]
    public long ZRange() => _bench.Run(_zrange[_next++ & (RequestRing - 1)]);

    private static string Member(int i) => "member:" + Text(i);

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);
}
