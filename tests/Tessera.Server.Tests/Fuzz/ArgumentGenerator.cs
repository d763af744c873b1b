using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Core.Commands;
using Tessera.Core.Hashing;

namespace Tessera.Server.Tests.Fuzz;

/// <summary>
/// Requests for the semantic fuzzer, built from the command table's argument metadata (COMMAND DOCS): each
/// argument gets a value of its type, favouring the extremes (0, -1, 2^63-1, -2^63, limits, empty and huge
/// strings, NaN and infinities, keys holding another type, payloads corrupted under a valid checksum), optional
/// and repeated arguments come and go, and now and then an argument is dropped or added to reach arity errors.
/// </summary>
internal sealed class ArgumentGenerator(Random random, IReadOnlyList<byte[]> payloads)
{
    /// <summary>Keys the episode seeds (one per type), one left missing, two sharing a hash tag, and odd ones.</summary>
    public static readonly string[] Keys = ["k:str", "k:int", "k:list", "k:hash", "k:set", "k:intset", "k:zset", "k:hll", "k:missing", "{t}a", "{t}b", "", new string('a', 300)];

    private static readonly string[] Integers =
    [
        "0", "1", "-1", "2", "3", "10", "100", "1000", "65535", "2147483647", "2147483648", "-2147483648", "4294967295", "4294967296",
        "9007199254740993", "9223372036854775807", "-9223372036854775808", "-9223372036854775807", "9223372036854775808",
        "-4611686018427387904", "4611686018427387903", "536870911", "536870912", "536870913", "16777216", "33554432",
        "abc", "", "1.5", "0x10", "+1", " 1", "01", "-0", "1e3", "99999999999999999999999",
    ];

    private static readonly string[] Doubles =
    [
        "0", "-0", "1", "1.5", "-1.5", "inf", "-inf", "+inf", "nan", "1e308", "1e309", "-1e309", "4.9e-324", "1e-400",
        "17976931348623157e292", "abc", "", "0x1p3", "(1", "[a", "9223372036854775807", "-9223372036854775808", "3.0000000000000001",
    ];

    private static readonly string[] Strings =
    [
        "", "a", "v", "hello", "0", "-1", "12345678901234567890", "nan", "inf", "*", "[", "\\", "{t}", "a\r\nb", "\0", "é",
        "XX", "NX", "GT", "LT", "CH", "INCR", "WITHSCORES", "LIMIT", "COUNT", "MATCH", "TYPE", "BY", "GET", "STORE", "REPLACE",
    ];

    private static readonly string[] Patterns =
    [
        "*", "k:*", "{t}*", "?", "[a-z]*", "[^a]", "[", "\\", "*\\", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
        "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*c", "[[[[[[[[", "[a-", "[z-a]*", "",
    ];

    private static readonly string[] Scripts =
    [
        "return 1", "return redis.call('get', KEYS[1])", "return redis.pcall('incr', KEYS[1])", "return {1, 'a', {2}}",
        "return redis.call('set', KEYS[1], ARGV[1])", "return {err='boom'}", "return {ok='fine'}", "error('x')",
        "return redis.call('lrange', KEYS[1], 0, -1)", "return cjson.encode({a=1})", "return tonumber(ARGV[1])",
        "local t = {} for i=1,100 do t[i] = i end return t", "return redis.setresp(3)", "return {double=1.5}",
        "return redis.call('hgetall', KEYS[1])", "return string.rep('x', 10)", "return struct", "syntax error here",
        // The libraries and the 5.1 shape on data from the request.
        "return cmsgpack.unpack(ARGV[1] or '')", "return {struct.unpack('>i<hBc0', ARGV[1] or '')}",
        "return cjson.decode(ARGV[1] or '')", "return cmsgpack.pack(KEYS, ARGV, {a = ARGV})",
        "return math.random(tonumber(ARGV[1]) or 1)", "return string.format('%d %s %q', tonumber(ARGV[1]) or 0, ARGV[1], ARGV[1] or '')",
        "return string.rep(ARGV[1] or 'x', math.min(tonumber(ARGV[2]) or 3, 1000))", "return string.sub(ARGV[1] or '', tonumber(ARGV[2]) or 1)",
        "return redis.error_reply(ARGV[1] or '')", "return redis.status_reply(ARGV[1] or '')", "return redis.sha1hex(ARGV[1])",
        "local a = {}; setmetatable(a, {__index = function() foo() end}) return a", "return loadstring(ARGV[1] or '')",
        "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1] or 'k')", "return redis.acl_check_cmd(ARGV[1] or 'get', 'k')",
    ];

    /// <summary>The arguments after the command name (and subcommand) for <paramref name="command"/>.</summary>
    public List<byte[]> For(CommandInfo command)
    {
        var args = new List<byte[]>();
        if (command.Docs is { } docs && docs.TryGetProperty("arguments", out var arguments))
        {
            foreach (var argument in arguments.EnumerateArray())
            {
                Add(argument, args, depth: 0);
            }
        }
        // Now and then one too few or one too many, for the arity and syntax paths.
        var roll = random.Next(20);
        if (roll == 0 && args.Count > 0)
        {
            args.RemoveAt(random.Next(args.Count));
        }
        else if (roll == 1)
        {
            args.Insert(random.Next(args.Count + 1), AnyValue());
        }
        return args;
    }

    private void Add(JsonElement argument, List<byte[]> args, int depth)
    {
        var flags = argument.TryGetProperty("flags", out var f) ? f.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
        if (flags.Contains("optional") && random.Next(2) == 0)
        {
            return;
        }
        var repeats = flags.Contains("multiple") ? random.Next(8) switch { 0 => 0, < 5 => 1, 5 => 2, 6 => 3, _ => random.Next(4, 40) } : 1;
        var token = argument.TryGetProperty("token", out var t) ? t.GetString() : null;
        for (var i = 0; i < repeats; i++)
        {
            if (token is not null && (i == 0 || flags.Contains("multiple_token")))
            {
                args.Add(Encoding.ASCII.GetBytes(random.Next(10) == 0 ? token.ToLowerInvariant() : token));
            }
            var type = argument.GetProperty("type").GetString();
            switch (type)
            {
                case "pure-token":
                    if (token is null)
                    {
                        args.Add(AnyValue());
                    }
                    break;
                case "oneof":
                    var choices = argument.GetProperty("arguments").EnumerateArray().ToList();
                    if (depth < 4 && choices.Count > 0)
                    {
                        Add(choices[random.Next(choices.Count)], args, depth + 1);
                    }
                    break;
                case "block":
                    if (depth < 4)
                    {
                        foreach (var inner in argument.GetProperty("arguments").EnumerateArray())
                        {
                            Add(inner, args, depth + 1);
                        }
                    }
                    break;
                default:
                    args.Add(Value(type!, argument.GetProperty("name").GetString()!));
                    break;
            }
        }
    }

    private byte[] Value(string type, string name)
    {
        // A value of any other kind, sometimes: type errors and parsing paths (but a timeout stays short, or an
        // episode would wait for ever on a blocking command).
        if (name != "timeout" && random.Next(12) == 0)
        {
            return AnyValue();
        }
        return type switch
        {
            "key" => Text(Keys[random.Next(Keys.Length)]),
            "integer" when name is "timeout" => Text(Pick("1", "10", "-1", "abc", "0.01")),
            "double" when name is "timeout" => Text(Pick("0.01", "0.02", "-1", "abc", "inf", "1e-400")),
            "integer" when name is "port" => Text(Pick("1", "0", "65536", "-1")),
            "integer" => Text(Pick(Integers)),
            "double" => Text(Pick(Doubles)),
            "unix-time" => Text(Pick("0", "-1", "1", (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 100).ToString(CultureInfo.InvariantCulture),
                "9223372036854775807", "-9223372036854775808", "999999999999999", "abc")),
            "pattern" => Text(Pick(Patterns)),
            _ => StringValue(name),
        };
    }

    private byte[] StringValue(string name)
    {
        switch (name)
        {
            case "serialized-value":
            case "serialized-payload":
                return Payload();
            case "script":
            case "function-code":
                return Text(name == "function-code" ? "#!lua name=lib\nredis.register_function('f', function() " + Pick(Scripts) + " end)" : Pick(Scripts));
            case "host":
                return Text("127.0.0.1");
            case "sha1":
                return Text(Pick("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0000000000000000000000000000000000000000", "x"));
        }
        return random.Next(10) switch
        {
            0 => RandomBytes(random.Next(1, 64)),
            1 => new byte[random.Next(1000, 20000)],
            _ => Text(Pick(Strings)),
        };
    }

    private byte[] AnyValue() => random.Next(5) switch
    {
        0 => Text(Pick(Integers)),
        1 => Text(Pick(Doubles)),
        2 => Text(Keys[random.Next(Keys.Length)]),
        _ => Text(Pick(Strings)),
    };

    /// <summary>A DUMP payload of the episode's keys: intact, or a byte changed and the checksum recomputed.</summary>
    private byte[] Payload()
    {
        if (payloads.Count == 0 || random.Next(8) == 0)
        {
            return RandomBytes(random.Next(0, 40));
        }
        var payload = (byte[])payloads[random.Next(payloads.Count)].Clone();
        if (random.Next(4) != 0 && payload.Length > 10)
        {
            payload[random.Next(payload.Length - 10)] ^= (byte)random.Next(1, 256);
            BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(payload.Length - 8), Crc64.Compute(payload.AsSpan(0, payload.Length - 8)));
        }
        return payload;
    }

    private string Pick(params string[] choices) => choices[random.Next(choices.Length)];

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);
}
