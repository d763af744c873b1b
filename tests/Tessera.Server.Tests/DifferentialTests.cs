using System.Diagnostics;
using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Seeded random command sequences over a small key space, sent to redis-server and Tessera alike; every reply
/// must match byte for byte. Bounded in count and time; a failure names its seed and step so it can be replayed.
/// </summary>
[Collection(OracleCollection.Name)]
public class DifferentialTests(OracleFixture fixture)
{
    private const int StepsPerSeed = 3000;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(40);

    [Fact]
    public void Random_command_sequences_get_identical_replies()
    {
        var clock = Stopwatch.StartNew();
        for (var seed = 1; seed <= 40 && clock.Elapsed < TimeLimit; seed++)
        {
            RunSeed(seed);
        }
    }

    private void RunSeed(int seed)
    {
        using var redis = fixture.Redis.Connect();
        using var tessera = fixture.Tessera.Connect();
        redis.Call("FLUSHALL");
        tessera.Call("FLUSHALL");
        var generator = new CommandGenerator(new Random(seed));
        var history = new Queue<string>();
        for (var step = 0; step < StepsPerSeed; step++)
        {
            var (args, comparison) = generator.Next();
            var text = string.Join(' ', args.Select(a => Oracle.Escape(a)));
            history.Enqueue(text);
            if (history.Count > 15)
            {
                history.Dequeue();
            }
            redis.Send(args);
            tessera.Send(args);
            var expected = redis.ReadRaw();
            var actual = tessera.ReadRaw();
            var same = comparison switch
            {
                Comparison.AsSet => Normalize(expected) == Normalize(actual),
                Comparison.Time => CloseInTime(expected, actual),
                _ => expected.AsSpan().SequenceEqual(actual),
            };
            if (same && Environment.GetEnvironmentVariable("DIFF_DEBUG") == "1")
            {
                // Slow mode for diagnosis: also compare every key's value after each step.
                foreach (var key in generator.Keys)
                {
                    if (!redis.CallRaw("GET", key).AsSpan().SequenceEqual(tessera.CallRaw("GET", key)))
                    {
                        same = false;
                    }
                }
                same &= redis.CallRaw("DBSIZE").AsSpan().SequenceEqual(tessera.CallRaw("DBSIZE"));
            }
            if (!same)
            {
                throw new OracleMismatchException(
                    $"seed {seed}, step {step}: {text}\n  redis:   {Oracle.Escape(expected)}\n  tessera: {Oracle.Escape(actual)}\n" +
                    $"  last commands:\n    {string.Join("\n    ", history)}\n  keys (redis | tessera):\n    " +
                    string.Join("\n    ", generator.Keys.Select(k => $"{k}: {Oracle.Escape(redis.CallRaw("GET", k))} | {Oracle.Escape(tessera.CallRaw("GET", k))}")));
            }
        }
    }

    private enum Comparison
    {
        Exact,
        AsSet,

        /// <summary>TTLs and expiry times: the servers set relative TTLs a few milliseconds apart.</summary>
        Time,
    }

    /// <summary>Equal integers, or positive ones within two seconds (or 2000 ms) of each other.</summary>
    private static bool CloseInTime(byte[] expected, byte[] actual)
    {
        var a = RespValue.Parse(expected);
        var b = RespValue.Parse(actual);
        if (a.Type != ':' || b.Type != ':' || a.Integer < 0 || b.Integer < 0)
        {
            return expected.AsSpan().SequenceEqual(actual);
        }
        return Math.Abs(a.Integer - b.Integer) <= (a.Integer > 10_000_000_000 ? 2000 : 2);
    }

    private static string Normalize(byte[] reply)
        => string.Join('|', RespValue.Parse(reply).Items.Select(i => i.ToString()).Order(StringComparer.Ordinal));

    /// <summary>Random commands over keys k0..k7, with values and options chosen to hit edge cases.</summary>
    private sealed class CommandGenerator(Random random)
    {
        private static readonly string[] Values = ["0", "1", "-1", "7", "10", "123", "-42", "1.5", "0.1", "-2.25", "1e3", "abc", "hello", "", "9223372036854775807", "-9223372036854775808", "01", " 1", "\x00\xff\x80", "a-longer-value-that-is-more-than-forty-four-bytes-long!!"];

        private readonly string[] _keys = [.. Enumerable.Range(0, 8).Select(i => "k" + i)];

        public IReadOnlyList<string> Keys => _keys;

        public (byte[][] Args, Comparison Comparison) Next()
        {
            string[] args = random.Next(46) switch
            {
                0 => ["SET", Key(), Value(), .. SetOptions()],
                1 => ["GET", Key()],
                2 => ["SETNX", Key(), Value()],
                3 => ["SETEX", Key(), random.Next(-1, 3) == 0 ? "0" : "100000", Value()],
                4 => ["GETEX", Key(), .. Pick([], ["PERSIST"], ["EX", "1000"], ["PXAT", "99999999999999"], ["EXAT", "1"], ["FOO"])],
                5 => ["GETDEL", Key()],
                6 => ["GETSET", Key(), Value()],
                7 => ["MGET", Key(), Key(), Key()],
                8 => ["MSET", Key(), Value(), Key(), Value()],
                9 => ["MSETNX", Key(), Value(), Key(), Value()],
                10 => ["INCR", Key()],
                11 => ["DECR", Key()],
                12 => ["INCRBY", Key(), Value()],
                13 => ["DECRBY", Key(), Value()],
                14 => ["INCRBYFLOAT", Key(), Value()],
                15 => ["APPEND", Key(), Value()],
                16 => ["STRLEN", Key()],
                17 => ["GETRANGE", Key(), Index(), Index()],
                18 => ["SETRANGE", Key(), random.Next(-1, 20).ToString(System.Globalization.CultureInfo.InvariantCulture), Value()],
                19 => ["SUBSTR", Key(), Index(), Index()],
                20 => ["LCS", Key(), Key(), .. Pick([], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"])],
                21 => ["SETBIT", Key(), random.Next(0, 40).ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(0, 3).ToString(System.Globalization.CultureInfo.InvariantCulture)],
                22 => ["GETBIT", Key(), random.Next(0, 40).ToString(System.Globalization.CultureInfo.InvariantCulture)],
                23 => ["BITCOUNT", Key(), .. Pick([], [Index(), Index()], [Index(), Index(), "BIT"], [Index(), Index(), "BYTE"])],
                24 => ["BITPOS", Key(), random.Next(0, 2).ToString(System.Globalization.CultureInfo.InvariantCulture), .. Pick([], [Index()], [Index(), Index()], [Index(), Index(), "BIT"])],
                25 => ["BITOP", Pick(["AND"], ["OR"], ["XOR"], ["NOT"])[0], Key(), Key(), .. Pick([], [Key()])],
                26 => ["BITFIELD", Key(), .. Pick(["GET", "u8", "0"], ["SET", "i5", "3", Value()], ["OVERFLOW", "SAT", "INCRBY", "u4", "2", "9"], ["OVERFLOW", "FAIL", "INCRBY", "i8", "#1", "100"], ["INCRBY", "i16", "4", Value()])],
                27 => ["DEL", Key(), Key()],
                28 => ["UNLINK", Key()],
                29 => ["EXISTS", Key(), Key(), Key()],
                30 => ["TYPE", Key()],
                31 => ["KEYS", Pick(["*"], ["k[0-3]"], ["k?"], ["*1"])[0]],
                32 => ["RENAME", Key(), Key()],
                33 => ["RENAMENX", Key(), Key()],
                34 => ["COPY", Key(), Key(), .. Pick([], ["REPLACE"], ["DB", "1"])],
                35 => ["MOVE", Key(), "1"],
                36 => ["TOUCH", Key(), Key()],
                37 => ["DBSIZE"],
                // GT and LT compare expiry times, so they only get absolute times: relative ones differ by the
                // milliseconds between the two servers' clocks.
                38 => ["EXPIRE", Key(), Pick(["100000"], ["200000"], ["-1"], ["0"])[0], .. Pick([], ["NX"], ["XX"])],
                39 => [Pick(["PEXPIREAT"], ["EXPIREAT"])[0], Key(), Pick(["99999999999999"], ["88888888888888"], ["99999999999"], ["1"])[0], .. Pick([], ["GT"], ["LT"], ["NX"], ["XX"])],
                40 => [Pick(["EXPIRETIME"], ["TTL"])[0], Key()],
                41 => [Pick(["PEXPIRETIME"], ["PTTL"])[0], Key()],
                42 => ["PERSIST", Key()],
                43 => ["OBJECT", "ENCODING", Key()],
                44 => ["SELECT", Pick(["0"], ["1"])[0]],
                _ => ["EXISTS", Key()],
            };
            var comparison = args[0] switch
            {
                "KEYS" => Comparison.AsSet,
                "TTL" or "PTTL" or "EXPIRETIME" or "PEXPIRETIME" => Comparison.Time,
                _ => Comparison.Exact,
            };
            return ([.. args.Select(a => Encoding.Latin1.GetBytes(a))], comparison);
        }

        private string Key() => _keys[random.Next(_keys.Length)];

        private string Value() => Values[random.Next(Values.Length)];

        private string Index() => random.Next(-12, 12).ToString(System.Globalization.CultureInfo.InvariantCulture);

        private string[] SetOptions() => Pick([], ["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", "10000"], ["PX", "0"], ["NX", "GET"], ["XX", "KEEPTTL"], ["PXAT", "99999999999999"]);

        private string[] Pick(params string[][] choices) => choices[random.Next(choices.Length)];
    }
}
