using System.Diagnostics;
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
    private const int EventCheckInterval = 20;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(40);

    [Fact]
    public void Random_command_sequences_get_identical_replies()
    {
        // DIFF_FIRST_SEED and DIFF_SECONDS let a local run explore further than CI does.
        var first = int.Parse(Environment.GetEnvironmentVariable("DIFF_FIRST_SEED") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var limit = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("DIFF_SECONDS") ?? TimeLimit.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        try
        {
            for (var seed = first; seed < first + 1000 && clock.Elapsed < limit; seed++)
            {
                RunSeed(seed);
            }
        }
        finally
        {
            foreach (var server in new[] { fixture.Redis.Connect(), fixture.Tessera.Connect() })
            {
                using (server)
                {
                    server.Call("CONFIG", "SET", "notify-keyspace-events", "");
                }
            }
        }
    }

    private void RunSeed(int seed)
    {
        using var redis = fixture.Redis.Connect();
        using var tessera = fixture.Tessera.Connect();
        redis.Call("FLUSHALL");
        tessera.Call("FLUSHALL");
        // Keyspace events go to a subscriber, but for expiry (its timing differs between the servers) and key misses
        // (SORT looks its BY keys up in hash-table order, random in Redis).
        using var redisEvents = Subscribe(redis, fixture.Redis.Connect());
        using var tesseraEvents = Subscribe(tessera, fixture.Tessera.Connect());
        var generator = new CommandGenerator(new Random(seed));
        var history = new List<string>();
        for (var step = 0; step < StepsPerSeed; step++)
        {
            if (step % EventCheckInterval == 0)
            {
                CompareEvents(seed, step, history, redisEvents, tesseraEvents);
            }
            var (args, comparison) = generator.Next();
            var text = string.Join(' ', args.Select(a => Oracle.Escape(a)));
            history.Add(text);
            redis.Send(args);
            tessera.Send(args);
            var expected = redis.ReadRaw();
            var actual = tessera.ReadRaw();
            var same = comparison switch
            {
                Comparison.AsSet => Normalize(expected) == Normalize(actual),
                Comparison.Time => CloseInTime(expected, actual, milliseconds: args[0][0] == (byte)'P'),
                Comparison.Count => SameShape(expected, actual),
                _ => expected.AsSpan().SequenceEqual(actual),
            };
            if (same && !generator.InMulti && Environment.GetEnvironmentVariable("DIFF_DEBUG") == "1")
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
                    $"  last commands:\n    {string.Join("\n    ", history.TakeLast(15))}\n" +
                    $"  earlier commands on its keys:\n    {string.Join("\n    ", OnSameKeys(history, args).TakeLast(40))}\n  keys (redis | tessera):\n    " +
                    string.Join("\n    ", generator.Keys.Select(k => $"{k}: {Oracle.Escape(redis.CallRaw("GET", k))} | {Oracle.Escape(tessera.CallRaw("GET", k))}")));
            }
        }
        CompareEvents(seed, StepsPerSeed, history, redisEvents, tesseraEvents);
    }

    private static RespClient Subscribe(RespClient control, RespClient subscriber)
    {
        control.Call("CONFIG", "SET", "notify-keyspace-events", "KEg$lshzn");
        subscriber.Call("PSUBSCRIBE", "*");
        return subscriber;
    }

    /// <summary>The keyspace events published since the last check must be the same, in the same order.</summary>
    private static void CompareEvents(int seed, int step, List<string> history, RespClient redis, RespClient tessera)
    {
        var expected = redis.ReadUntilPong();
        var actual = tessera.ReadUntilPong();
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            throw new OracleMismatchException(
                $"seed {seed}, keyspace events before step {step}\n  redis:   {Oracle.Escape(expected)}\n  tessera: {Oracle.Escape(actual)}\n" +
                $"  commands since the last check:\n    {string.Join("\n    ", history.TakeLast(EventCheckInterval))}");
        }
    }

    /// <summary>The commands of <paramref name="history"/> before the last that name one of the failing command's arguments.</summary>
    private static IEnumerable<string> OnSameKeys(List<string> history, byte[][] failing)
    {
        var names = failing.Skip(1).Select(a => Oracle.Escape(a)).Where(a => a.Length > 0).ToHashSet();
        return history.SkipLast(1).Where(text => text.Split(' ').Skip(1).Any(names.Contains));
    }

    internal enum Comparison
    {
        Exact,
        AsSet,

        /// <summary>TTLs and expiry times: the servers set relative TTLs a few milliseconds apart.</summary>
        Time,

        /// <summary>Random picks (SRANDMEMBER ...): the same kind of reply with as many elements.</summary>
        Count,
    }

    private static bool SameShape(byte[] expected, byte[] actual)
    {
        var a = RespValue.Parse(expected);
        var b = RespValue.Parse(actual);
        return a.Type == b.Type && a.IsNull == b.IsNull && a.Items.Count == b.Items.Count && (a.Type != '-' || a.Text == b.Text);
    }

    /// <summary>
    /// Equal integers, or positive ones within two seconds of each other: the two servers see each command at
    /// slightly different times, more so on a busy machine.
    /// </summary>
    private static bool CloseInTime(byte[] expected, byte[] actual, bool milliseconds)
    {
        var a = RespValue.Parse(expected);
        var b = RespValue.Parse(actual);
        if (a.Type != ':' || b.Type != ':' || a.Integer < 0 || b.Integer < 0)
        {
            return expected.AsSpan().SequenceEqual(actual);
        }
        return Math.Abs(a.Integer - b.Integer) <= (milliseconds ? 2000 : 2);
    }

    private static string Normalize(byte[] reply)
        => string.Join('|', RespValue.Parse(reply).Items.Select(i => i.ToString()).Order(StringComparer.Ordinal));
}
