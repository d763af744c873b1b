namespace Tessera.Proxy.Pools;

/// <summary>
/// nutcracker's per-server counters plus a latency histogram. Updated with interlocked adds from every proxy
/// thread; readers (the stats port) take a racy snapshot, as nutcracker's aggregator does.
/// </summary>
public sealed class BackendStats
{
    /// <summary>Upper bounds (microseconds) of the latency buckets; the last bucket is open.</summary>
    public static readonly long[] LatencyBucketsMicros = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

    public long ServerEof;
    public long ServerErr;
    public long ServerTimedout;
    public long ServerConnections;
    public long Requests;
    public long RequestBytes;
    public long Responses;
    public long ResponseBytes;

    /// <summary>Replies per latency bucket (index = first bound the latency is below, last = above all).</summary>
    public readonly long[] Latency = new long[LatencyBucketsMicros.Length + 1];

    public void RecordLatency(long micros)
    {
        var bucket = 0;
        while (bucket < LatencyBucketsMicros.Length && micros >= LatencyBucketsMicros[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref Latency[bucket]);
    }
}
