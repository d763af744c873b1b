using System.Globalization;
using Tessera.Core.Distribution;
using Tessera.Core.Hashing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tessera.Proxy.Config;

/// <summary>
/// Reads nutcracker's YAML: one document, a mapping of pool names to mappings of directives, <c>servers:</c> the one
/// sequence. Values are checked as nutcracker checks them (same defaults, same duplicate rules, servers sorted as
/// nutcracker sorts them, which decides modula placement); every refusal names the file, the line and the reason.
/// </summary>
public static class NutcrackerConfig
{
    private const int MemcachedKetamaPort = 11211;

    /// <summary>Parses the file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<PoolConfig> Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ProxyConfigException($"{path}: cannot open the configuration: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses <paramref name="yaml"/>; <paramref name="fileName"/> prefixes error messages.</summary>
    public static IReadOnlyList<PoolConfig> Parse(string yaml, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ProxyConfigException($"{fileName}:{e.Start.Line}: invalid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count != 1)
        {
            throw new ProxyConfigException($"{fileName}: must contain only 1 document; found {stream.Documents.Count} documents");
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root || root.Children.Count == 0)
        {
            throw new ProxyConfigException($"{fileName}:{stream.Documents[0].RootNode.Start.Line}: has no pools (expected \"name:\" followed by its directives)");
        }
        var pools = new List<PoolConfig>();
        foreach (var (nameNode, body) in root.Children)
        {
            pools.Add(ParsePool(fileName, Scalar(fileName, nameNode, "pool name"), nameNode, body));
        }
        foreach (var group in pools.GroupBy(pool => pool.Listen).Where(g => g.Count() > 1))
        {
            var (first, second) = (group.First(), group.Skip(1).First());
            throw new ProxyConfigException($"{fileName}: pools '{first.Name}' and '{second.Name}' have the same listen address '{group.Key}'");
        }
        return pools;
    }

    private static PoolConfig ParsePool(string file, string name, YamlNode nameNode, YamlNode body)
    {
        if (body is not YamlMappingNode directives)
        {
            throw new ProxyConfigException($"{file}:{body.Start.Line}: pool '{name}' must be a mapping of \"directive: value\"");
        }
        var pool = new PoolConfig { Name = name, Listen = "", Servers = [] };
        var seen = new HashSet<string>();
        var redisSet = false;
        foreach (var (keyNode, valueNode) in directives.Children)
        {
            var key = Scalar(file, keyNode, "directive");
            var line = keyNode.Start.Line;
            string Fail(string reason) => throw new ProxyConfigException($"{file}:{line}: pool '{name}': directive \"{key}\" {reason}");
            if (!seen.Add(key))
            {
                Fail("is a duplicate");
            }
            if (key == "servers")
            {
                pool = pool with { Servers = ParseServers(file, name, valueNode) };
                continue;
            }
            if (valueNode is not YamlScalarNode { Value: { } value })
            {
                Fail("must have a single value");
                continue;
            }
            pool = key switch
            {
                "listen" => ParseListen(pool, value, Fail),
                "hash" => pool with { Hash = NutcrackerHash.TryParse(value, out var hash) ? hash : Fail<NutcrackerHashKind>(Fail, "is not a valid hash") },
                "hash_tag" => pool with { HashTag = value.Length == 2 ? value : Fail<string>(Fail, "is not a valid hash tag string with two characters") },
                "distribution" => pool with { Distribution = ParseDistribution(value, Fail) },
                "timeout" => pool with { TimeoutMs = Number(value, Fail) },
                "backlog" => pool with { Backlog = Number(value, Fail) },
                "client_connections" => pool with { ClientConnections = Number(value, Fail) },
                "redis" => pool with { Redis = redisSet = Bool(value, Fail) },
                "redis_auth" => pool with { RedisAuth = value },
                "redis_db" => pool with { RedisDb = Number(value, Fail) },
                "preconnect" => pool with { Preconnect = Bool(value, Fail) },
                "auto_eject_hosts" => pool with { AutoEjectHosts = Bool(value, Fail) },
                "server_connections" => pool with { ServerConnections = Number(value, Fail) is > 0 and var n ? n : Fail<int>(Fail, "cannot be 0") },
                "server_retry_timeout" => pool with { ServerRetryTimeoutMs = Number(value, Fail) },
                "server_failure_limit" => pool with { ServerFailureLimit = Number(value, Fail) },
                "tcpkeepalive" => pool with { TcpKeepalive = Bool(value, Fail) },
                "cluster" => pool with { ClusterSeeds = ParseSeeds(value, Fail) },
                "slots" => pool with { Slots = Number(value, Fail) is > 0 and <= 16384 and var slots ? slots : Fail<int>(Fail, "must be between 1 and 16384") },
                "key_ranges" => pool with { KeyRanges = ParseRanges(value, Fail) },
                _ => Fail<PoolConfig>(Fail, "is unknown"),
            };
        }
        var poolLine = nameNode.Start.Line;
        if (pool.Listen.Length == 0)
        {
            throw new ProxyConfigException($"{file}:{poolLine}: pool '{name}': directive \"listen:\" is missing");
        }
        if (pool.Servers.Count > 0 && pool.ClusterSeeds.Count > 0)
        {
            throw new ProxyConfigException($"{file}:{poolLine}: pool '{name}' has both \"servers\" and \"cluster\" (a cluster pool learns its servers from the cluster)");
        }
        if (pool.Servers.Count == 0 && pool.ClusterSeeds.Count == 0)
        {
            throw new ProxyConfigException($"{file}:{poolLine}: pool '{name}' has no servers");
        }
        if (pool.Distribution == DistributionKind.Range && pool.KeyRanges.Count != pool.Servers.Count)
        {
            throw new ProxyConfigException($"{file}:{poolLine}: pool '{name}' uses \"distribution: range\" and needs one \"key_ranges\" entry per server ({pool.KeyRanges.Count} for {pool.Servers.Count} servers)");
        }
        if (!redisSet)
        {
            throw new ProxyConfigException($"{file}:{poolLine}: pool '{name}' speaks memcached (\"redis: true\" is missing); Tessera's proxy serves Redis pools only");
        }
        return pool;
    }

    private static T Fail<T>(Func<string, string> fail, string reason)
    {
        fail(reason);
        return default!;
    }

    private static string Scalar(string file, YamlNode node, string what) =>
        node is YamlScalarNode { Value: { Length: > 0 } value }
            ? value
            : throw new ProxyConfigException($"{file}:{node.Start.Line}: invalid {what} (expected a plain \"key:\")");

    private static int Number(string value, Func<string, string> fail) =>
        value.Length > 0 && value.All(char.IsAsciiDigit) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : Fail<int>(fail, "is not a number");

    private static bool Bool(string value, Func<string, string> fail) =>
        value == "true" || (value == "false" ? false : Fail<bool>(fail, "is not \"true\" or \"false\""));

    private static DistributionKind ParseDistribution(string value, Func<string, string> fail) => value switch
    {
        "ketama" => DistributionKind.Ketama,
        "modula" => DistributionKind.Modula,
        "random" => DistributionKind.Random,
        "slots" => DistributionKind.Slots,
        "range" => DistributionKind.Range,
        _ => Fail<DistributionKind>(fail, "is not a valid distribution"),
    };

    private static PoolConfig ParseListen(PoolConfig pool, string value, Func<string, string> fail)
    {
        if (value.StartsWith('/'))
        {
            var space = value.LastIndexOf(' ');
            if (space < 0)
            {
                return pool with { Listen = value, ListenUnixPath = value };
            }
            var permissions = value[(space + 1)..];
            if (permissions.Length == 0 || !permissions.All(c => c is >= '0' and <= '7') || Convert.ToInt32(permissions, 8) > 0x1FF)
            {
                fail("has an invalid file permission in \"socket_path permission\" format string");
            }
            return pool with { Listen = value, ListenUnixPath = value[..space], ListenPermissions = Convert.ToInt32(permissions, 8) };
        }
        var colon = value.LastIndexOf(':');
        if (colon < 0)
        {
            fail("has an invalid \"hostname:port\" format string");
        }
        return pool with { Listen = value, ListenHost = value[..colon], ListenPort = Port(value[(colon + 1)..], fail, "\"hostname:port\"") };
    }

    private static List<(string Host, int Port)> ParseSeeds(string value, Func<string, string> fail) =>
        [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(seed =>
        {
            var colon = seed.LastIndexOf(':');
            return colon > 0
                ? (seed[..colon], Port(seed[(colon + 1)..], fail, "\"host:port,host:port\""))
                : Fail<(string, int)>(fail, "has an invalid \"host:port,host:port\" format string");
        })];

    private static List<(long Low, long High)> ParseRanges(string value, Func<string, string> fail) =>
        [.. value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Select(text =>
            Tessera.Core.Distribution.RangeTable.TryParseRange(text, out var low, out var high)
                ? (low, high)
                : Fail<(long, long)>(fail, $"has an invalid range '{text}' (expected \"low-high\" or \"low-\")"))];

    private static int Port(string text, Func<string, string> fail, string format) =>
        text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, out var port) && port is > 0 and < 65536
            ? port
            : Fail<int>(fail, $"has an invalid port in {format} format string");

    private static List<ServerConfig> ParseServers(string file, string pool, YamlNode node)
    {
        if (node is not YamlSequenceNode sequence)
        {
            throw new ProxyConfigException($"{file}:{node.Start.Line}: pool '{pool}': directive \"servers\" must be a sequence of \"- host:port:weight [name]\"");
        }
        var servers = new List<ServerConfig>();
        foreach (var item in sequence.Children)
        {
            var line = item.Start.Line;
            string Fail(string reason) => throw new ProxyConfigException($"{file}:{line}: pool '{pool}': server {reason}");
            var text = item is YamlScalarNode { Value: { } v } ? v : Fail("must be a \"host:port:weight [name]\" string");
            servers.Add(ParseServer(text, Fail) with { Order = servers.Count });
        }
        // nutcracker sorts by name (shorter first, then bytewise) to find duplicates, and keeps that order: modula
        // and the server indexes depend on it.
        servers.Sort((x, y) => x.Name.Length != y.Name.Length
            ? x.Name.Length.CompareTo(y.Name.Length)
            : string.CompareOrdinal(x.Name, y.Name));
        for (var i = 1; i < servers.Count; i++)
        {
            if (servers[i].Name == servers[i - 1].Name)
            {
                throw new ProxyConfigException($"{file}:{sequence.Start.Line}: pool '{pool}' has servers with same name '{servers[i].Name}'");
            }
        }
        return servers;
    }

    /// <summary>Parses "host:port:weight [name]" or "/path/socket:weight [name]" from the end, as nutcracker does.</summary>
    private static ServerConfig ParseServer(string text, Func<string, string> fail)
    {
        const string format = "has an invalid \"hostname:port:weight [name]\" or \"/path/unix_socket:weight [name]\" format string";
        var unix = text.StartsWith('/');
        var rest = text;
        string? name = null;
        var space = rest.LastIndexOf(' ');
        if (space >= 0)
        {
            name = rest[(space + 1)..];
            rest = rest[..space];
        }
        var colon = rest.LastIndexOf(':');
        if (colon < 0)
        {
            fail(format);
        }
        var weightText = rest[(colon + 1)..];
        rest = rest[..colon];
        var portText = "";
        if (!unix)
        {
            colon = rest.LastIndexOf(':');
            if (colon < 0)
            {
                fail(format);
            }
            portText = rest[(colon + 1)..];
            rest = rest[..colon];
        }
        if (!(weightText.Length > 0 && weightText.All(char.IsAsciiDigit) && int.TryParse(weightText, out var weight)))
        {
            return Fail<ServerConfig>(fail, "has an invalid weight in \"hostname:port:weight [name]\" format string");
        }
        if (weight == 0)
        {
            fail("has a zero weight in \"hostname:port:weight [name]\" format string");
        }
        var port = unix ? 0 : Port(portText, fail, "\"hostname:port:weight [name]\"");
        // Without a name, ketama hashes "host:port" (just "host" for memcached's 11211, after libmemcached).
        name ??= unix ? rest + ":" : port == MemcachedKetamaPort ? rest : $"{rest}:{portText}";
        return new ServerConfig(unix ? "" : rest, port, weight, name, unix ? rest : null);
    }
}
