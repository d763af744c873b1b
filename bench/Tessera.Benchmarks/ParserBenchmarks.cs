using System.Text;
using BenchmarkDotNet.Attributes;
using Tessera.Resp;

namespace Tessera.Benchmarks;

/// <summary>Request parsing cost per command, for a pipeline of 16 SETs and GETs as redis-benchmark -P 16 sends.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private readonly RequestParser _parser = new();
    private readonly Request _request = new();
    private byte[] _pipeline = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 8; i++)
        {
            text.Append("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$3\r\nxxx\r\n");
            text.Append("*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n");
        }
        _pipeline = Encoding.ASCII.GetBytes(text.ToString());
    }

    [Benchmark(OperationsPerInvoke = 16)]
    public int ParsePipeline()
    {
        var start = 0;
        var count = 0;
        while (_parser.Parse(_pipeline, start, _pipeline.Length, _request, out var consumed) == ParseStatus.Complete)
        {
            start += consumed;
            count += _request.Count;
        }
        return count;
    }
}
