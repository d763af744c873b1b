using System.Text;
using BenchmarkDotNet.Attributes;
using Tessera.Server;
using Tessera.Server.Sessions;

namespace Tessera.Benchmarks;

/// <summary>
/// GET and SET through a client session with no socket: parse, dispatch, execute, reply. The allocation column
/// must read 0 B: the hot path allocates nothing per request.
/// </summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private TesseraServer _server = null!;
    private ClientSession _session = null!;
    private byte[] _get = [];
    private byte[] _set = [];
    private byte[] _pipeline = [];

    [GlobalSetup]
    public void Setup()
    {
        _server = new TesseraServer(ServerOptions.Load(null, ["--port", "0", "--save", ""]));
        _session = _server.Clients.Register(null, "bench:0", "bench:0", unix: false);
        _set = Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$16\r\nvalue:0000000001\r\n");
        _get = Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n");
        _pipeline = [.. Enumerable.Repeat(_get, 16).SelectMany(b => b)];
        Run(_set);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark]
    public long Get() => Run(_get);

    [Benchmark]
    public long Set() => Run(_set);

    [Benchmark(OperationsPerInvoke = 16)]
    public long GetPipelined16() => Run(_pipeline);

    private long Run(byte[] request)
    {
        _session.Receive(request);
        _session.ProcessInput();
        var length = _session.Output.Length;
        _session.Output.Consume(length);
        return length;
    }
}
