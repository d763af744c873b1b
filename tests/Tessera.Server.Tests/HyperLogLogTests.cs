using System.Globalization;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// HyperLogLogs grown past the sparse limit, compared with redis-server byte for byte: the strings (so a value
/// copied between the two keeps working), the estimates, merges and PFDEBUG's view of the registers.
/// </summary>
[Collection(OracleCollection.Name)]
public class HyperLogLogTests(OracleFixture fixture)
{
    [Fact]
    public void Sketches_stay_identical_to_redis_through_sparse_and_dense()
    {
        using var oracle = fixture.NewOracle();
        oracle.Reconnect();
        int[] sizes = [1, 10, 100, 1000, 3000, 20000];
        for (var k = 0; k < sizes.Length; k++)
        {
            var key = "h" + k.ToString(CultureInfo.InvariantCulture);
            for (var from = 0; from < sizes[k]; from += 500)
            {
                var elements = Enumerable.Range(from, Math.Min(500, sizes[k] - from)).Select(j => $"e{k}-{j}");
                oracle.Check(["PFADD", key, .. elements]);
                oracle.Check("PFCOUNT", key);
                oracle.Check("GET", key);
                oracle.Check("PFDEBUG", "ENCODING", key);
            }
        }
        oracle.Check("PFCOUNT", "h0", "h1", "h2", "h3", "h4", "h5");
        oracle.Check("PFMERGE", "sparse", "h0", "h1", "h2");
        oracle.Check("GET", "sparse");
        oracle.Check("PFMERGE", "dense", "h1", "h5");
        oracle.Check("GET", "dense");
        oracle.Check("PFCOUNT", "dense");
        oracle.Check("PFDEBUG", "DECODE", "h2");
        oracle.Check("PFDEBUG", "GETREG", "h2");
        oracle.Check("GET", "h2");
        oracle.Check("CONFIG", "SET", "hll-sparse-max-bytes", "30");
        oracle.Check(["PFADD", "tiny", .. Enumerable.Range(0, 30).Select(j => "x" + j.ToString(CultureInfo.InvariantCulture))]);
        oracle.Check("PFDEBUG", "ENCODING", "tiny");
        oracle.Check("CONFIG", "SET", "hll-sparse-max-bytes", "3000");
    }

    [Fact]
    public void Corrupt_sketches_answer_as_redis_does()
    {
        using var oracle = fixture.NewOracle();
        oracle.Reconnect();
        // A sparse sketch whose last XZERO opcode lost its second byte, and a dense one of the wrong size.
        oracle.Check("SET", "cut", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f");
        oracle.Check("PFCOUNT", "cut");
        oracle.Check("PFADD", "cut", "a");
        oracle.Check("GET", "cut");
        oracle.Check("PFADD", "cut", "b", "c", "d");
        oracle.Check("GET", "cut");
        oracle.Check("PFMERGE", "x", "cut");
        oracle.Check("SET", "short", "HYLL\0\0\0\0\0\0\0\0\0\0\0\x80\x7f");
        oracle.Check("PFCOUNT", "short");
        oracle.Check("PFADD", "short", "a");
        oracle.Check("SET", "runs", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\xff\xff\xff");
        oracle.Check("PFCOUNT", "runs");
        oracle.Check("PFDEBUG", "TODENSE", "runs");
    }
}
