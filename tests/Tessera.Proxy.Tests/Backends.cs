using System.Text;
using Tessera.TestKit;

namespace Tessera.Proxy.Tests;

/// <summary>Four redis-server backends and the YAML that names them, for the proxy tests.</summary>
public sealed class Backends : IDisposable
{
    public Backends(int count = 4)
    {
        Servers = [.. Enumerable.Range(0, count).Select(_ => new RedisServerProcess())];
        Directory = Path.Combine(Path.GetTempPath(), "tessera-proxy-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public List<RedisServerProcess> Servers { get; }

    public string Directory { get; }

    /// <summary>"- 127.0.0.1:port:1" lines for every backend (with <paramref name="weights"/> and <paramref name="names"/> when given).</summary>
    public string ServerLines(int[]? weights = null, string[]? names = null) =>
        string.Concat(Servers.Select((server, i) =>
            $"   - 127.0.0.1:{server.Port}:{weights?[i] ?? 1}{(names is null ? "" : " " + names[i])}\n"));

    /// <summary>Writes <paramref name="yaml"/> to a file in the test directory and returns its path.</summary>
    public string WriteConfig(string yaml, string name = "nutcracker.yml")
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    public void FlushAll()
    {
        foreach (var server in Servers)
        {
            using var client = server.Connect();
            client.Call("FLUSHALL");
        }
    }

    /// <summary>Which backend (index) holds each key now.</summary>
    public Dictionary<string, int> Placement()
    {
        var placement = new Dictionary<string, int>();
        for (var i = 0; i < Servers.Count; i++)
        {
            using var client = Servers[i].Connect();
            foreach (var key in BulkStrings(client.CallRaw("KEYS", "*")))
            {
                placement[Convert.ToHexString(key)] = i;
            }
        }
        return placement;
    }

    /// <summary>The elements of a raw array-of-bulk-strings reply, as bytes (keys may not be UTF-8).</summary>
    public static List<byte[]> BulkStrings(byte[] reply)
    {
        var items = new List<byte[]>();
        var at = Array.IndexOf(reply, (byte)'\n') + 1;
        while (at < reply.Length)
        {
            var lineEnd = Array.IndexOf(reply, (byte)'\r', at);
            var length = int.Parse(Encoding.ASCII.GetString(reply, at + 1, lineEnd - at - 1), System.Globalization.CultureInfo.InvariantCulture);
            items.Add(reply.AsSpan(lineEnd + 2, length).ToArray());
            at = lineEnd + 2 + length + 2;
        }
        return items;
    }

    public void Dispose()
    {
        foreach (var server in Servers)
        {
            server.Dispose();
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
