using System.Text;
using Tessera.Core.Hashing;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Proxy.Tests;

/// <summary>
/// Bit-exact placement: nutcracker 0.5.0 (the Debian package) and Tessera's proxy run the same pools over the same
/// four redis-server backends; 10,000 keys written through each must land on the same backend, for every hash and
/// for ketama and modula, plus weighted, named and hash-tagged pools. Keys include bytes above 0x7f, where
/// twemproxy's sign extension changes several hashes.
/// </summary>
public sealed class PlacementOracleTests
{
    private const int KeyCount = 10_000;

    [Fact]
    public void Every_hash_and_distribution_places_keys_as_nutcracker_does()
    {
        using var backends = new Backends();
        var pools = new List<(string Name, string Body, bool Tagged)>();
        foreach (var hash in NutcrackerHash.Names)
        {
            foreach (var distribution in new[] { "ketama", "modula" })
            {
                pools.Add(($"{hash}_{distribution}", $"  hash: {hash}\n  distribution: {distribution}\n  servers:\n{backends.ServerLines()}", false));
            }
        }
        int[] weights = [1, 3, 2, 5];
        string[] names = ["delta", "alpha", "charlie-1", "b"];
        pools.Add(("weighted_ketama", $"  distribution: ketama\n  servers:\n{backends.ServerLines(weights)}", false));
        pools.Add(("named_ketama", $"  hash: murmur\n  distribution: ketama\n  servers:\n{backends.ServerLines(weights, names)}", false));
        pools.Add(("named_modula", $"  hash: md5\n  distribution: modula\n  servers:\n{backends.ServerLines(weights, names)}", false));
        pools.Add(("tagged", $"  hash: crc32a\n  hash_tag: \"{{}}\"\n  distribution: ketama\n  servers:\n{backends.ServerLines()}", true));

        var nutcrackerPorts = pools.Select(_ => FreePort.Next()).ToArray();
        var tesseraPorts = pools.Select(_ => FreePort.Next()).ToArray();
        string Config(int[] ports) => string.Concat(pools.Select((pool, i) =>
            $"{pool.Name}:\n  listen: 127.0.0.1:{ports[i]}\n  redis: true\n{pool.Body}"));
        using var nutcracker = ProxyProcess.Nutcracker(backends.WriteConfig(Config(nutcrackerPorts), "nutcracker.yml"), FreePort.Next(), nutcrackerPorts);
        using var tessera = ProxyProcess.Tessera(backends.WriteConfig(Config(tesseraPorts), "tessera.yml"), FreePort.Next(), tesseraPorts);

        var mismatches = new List<string>();
        for (var p = 0; p < pools.Count; p++)
        {
            var keys = Keys(pools[p].Tagged);
            backends.FlushAll();
            WriteThrough(nutcrackerPorts[p], keys);
            var expected = backends.Placement();
            backends.FlushAll();
            WriteThrough(tesseraPorts[p], keys);
            var actual = backends.Placement();
            Assert.Equal(KeyCount, expected.Count);
            var differing = expected.Count(entry => !actual.TryGetValue(entry.Key, out var server) || server != entry.Value);
            if (differing > 0 || actual.Count != expected.Count)
            {
                mismatches.Add($"{pools[p].Name}: {differing} keys elsewhere");
            }
            // Every pool must spread keys (crc32's 15-bit hash on a ketama ring is the known exception: nutcracker
            // sends every key to one server, and so must we).
            if (!pools[p].Name.StartsWith("crc32_ketama", StringComparison.Ordinal))
            {
                Assert.True(expected.Values.Distinct().Count() >= 3, $"{pools[p].Name} used {expected.Values.Distinct().Count()} backends");
            }
        }
        Assert.Empty(mismatches);
    }

    /// <summary>Printable keys, keys with high bytes, and (for the tagged pool) keys whose tag decides.</summary>
    private static List<byte[]> Keys(bool tagged)
    {
        var keys = new List<byte[]>(KeyCount);
        for (var i = 0; i < KeyCount; i++)
        {
            var key = (i % 4) switch
            {
                0 => Encoding.ASCII.GetBytes($"user:{i}"),
                1 => [(byte)(0x80 + (i % 120)), (byte)'k', (byte)(i % 256), .. Encoding.ASCII.GetBytes($"{i}")],
                2 => Encoding.ASCII.GetBytes($"{i}"),
                _ => Encoding.ASCII.GetBytes($"session/{i * 7919}/x"),
            };
            if (tagged)
            {
                key = i % 3 == 0 ? Encoding.ASCII.GetBytes($"a{{tag{i % 50}}}:{i}") : i % 3 == 1 ? Encoding.ASCII.GetBytes($"{{}}{i}") : key;
            }
            keys.Add(key);
        }
        return keys;
    }

    /// <summary>SET every key through the proxy on <paramref name="port"/>, pipelined, and checks every reply.</summary>
    private static void WriteThrough(int port, List<byte[]> keys)
    {
        using var client = new RespClient(port);
        var batch = new MemoryStream();
        foreach (var key in keys)
        {
            batch.Write(RespClient.Encode([Encoding.ASCII.GetBytes("SET"), key, "v"u8.ToArray()]));
        }
        client.SendRaw(batch.ToArray());
        for (var i = 0; i < keys.Count; i++)
        {
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(client.ReadRaw()));
        }
    }
}
