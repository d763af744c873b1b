using BenchmarkDotNet.Attributes;

namespace Tessera.Benchmarks;

/// <summary>
/// GET and SET through a client session with no socket: parse, dispatch, execute, reply. The allocation column
/// must read 0 B: the hot path allocates nothing per request.
/// </summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private BenchSession _bench = null!;
    private byte[] _get = [];
    private byte[] _set = [];
    private byte[] _pipeline = [];

    [GlobalSetup]
    public void Setup()
    {
        _bench = new BenchSession();
        _set = BenchSession.Command("SET", "key:000000012345", "value:0000000001");
        _get = BenchSession.Command("GET", "key:000000012345");
        _pipeline = [.. Enumerable.Repeat(_get, 16).SelectMany(b => b)];
        _bench.Run(_set);
    }

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark]
    public long Get() => _bench.Run(_get);

    [Benchmark]
    public long Set() => _bench.Run(_set);

    [Benchmark(OperationsPerInvoke = 16)]
    public long GetPipelined16() => _bench.Run(_pipeline);
}
