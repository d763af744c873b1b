using System.Globalization;
using System.Text;
using static Tessera.Server.Tests.DifferentialTests;

namespace Tessera.Server.Tests;

/// <summary>
/// Random commands for the differential test over a small key space: keys k0..k7 shared by every family (so
/// WRONGTYPE paths run too) and a few keys per type, with values, scores and options chosen to hit edge cases
/// and encoding conversions.
/// </summary>
internal sealed class CommandGenerator(Random random)
{
    private static readonly string[] Values = ["0", "1", "-1", "7", "10", "123", "-42", "1.5", "0.1", "-2.25", "1e3", "abc", "hello", "", "9223372036854775807", "-9223372036854775808", "01", " 1", "\x00\xff\x80", "a-longer-value-that-is-more-than-forty-four-bytes-long!!"];
    private static readonly string[] Members = ["a", "b", "c", "d", "1", "2", "3", "-5", "1.5", "", "x-member-long-enough-to-pass-the-sixty-four-byte-listpack-value-limit!"];
    private static readonly string[] Scores = ["0", "1", "2", "-1", "1.5", "-0", "inf", "-inf", "+inf", "1e300", "nan", "abc", "3", "10"];
    private static readonly string[] Bounds = ["-inf", "+inf", "0", "1", "(1", "2", "(2", "1.5", "nan", "x", "(inf"];
    private static readonly string[] Longitudes = ["0", "13.361389", "15.087269", "-73.9454966", "180", "-180", "179.9999999", "181", "abc", "-0"];
    private static readonly string[] Latitudes = ["0", "38.115556", "37.502669", "40.747533", "85.05112878", "-85.05112878", "85.06", "x"];
    private static readonly string[] Radii = ["0", "1", "200", "5000", "20000", "-1", "abc", "inf", "0.001"];
    private static readonly string[] Units = ["m", "km", "mi", "ft", "KM", "parsec"];
    private static readonly string[] LexBounds = ["-", "+", "[a", "(a", "[c", "(d", "[1", "a", "[", "(z"];

    private readonly string[] _keys = [.. Enumerable.Range(0, 8).Select(i => "k" + i)];

    public IReadOnlyList<string> Keys => _keys;

    private bool _inMulti;
    private bool _queuedInexact;

    /// <summary>True between a generated MULTI and its EXEC or DISCARD: commands are being queued.</summary>
    public bool InMulti => _inMulti;

    public (byte[][] Args, Comparison Comparison) Next()
    {
        var args = random.Next(9) switch
        {
            8 => GeoCommand(),
            7 => TransactionCommand(),
            0 => StringCommand(),
            6 => SortCommand(),
            1 => HashCommand(),
            2 => ListCommand(),
            3 => SetCommand(),
            4 => SortedSetCommand(),
            _ => random.Next(3) == 0 ? HyperLogLogCommand() : StringCommand(),
        };
        var comparison = args[0] switch
        {
            "KEYS" or "SMEMBERS" or "SINTER" or "SUNION" or "SDIFF" or "HGETALL" or "HKEYS" or "HVALS" => Comparison.AsSet,
            "TTL" or "PTTL" or "EXPIRETIME" or "PEXPIRETIME" => Comparison.Time,
            "SRANDMEMBER" or "HRANDFIELD" or "ZRANDMEMBER" => Comparison.Count,
            _ => Comparison.Exact,
        };
        comparison = Track(args[0], comparison);
        return ([.. args.Select(a => Encoding.Latin1.GetBytes(a))], comparison);
    }

    /// <summary>
    /// Follows MULTI/EXEC: EXEC's array holds the queued commands' replies, so it is compared only by shape when
    /// one of them is (set orders, random picks, TTLs).
    /// </summary>
    private Comparison Track(string command, Comparison comparison)
    {
        switch (command)
        {
            case "MULTI":
                _queuedInexact &= _inMulti;
                _inMulti = true;
                return comparison;
            case "EXEC" or "DISCARD":
                var inexact = _inMulti && _queuedInexact;
                _inMulti = false;
                _queuedInexact = false;
                return inexact && command == "EXEC" ? Comparison.Count : comparison;
            default:
                _queuedInexact |= _inMulti && comparison != Comparison.Exact;
                return comparison;
        }
    }

    /// <summary>Transactions over the shared keys: queued commands, aborts, and WATCH broken by any write.</summary>
    private string[] TransactionCommand() => random.Next(6) switch
    {
        0 => ["WATCH", Key(), .. Pick([], [Key()], [Key("l"), Key("z")])],
        1 or 2 => ["MULTI"],
        3 => ["EXEC"],
        4 => ["DISCARD"],
        _ => ["UNWATCH"],
    };

    private string[] StringCommand() => random.Next(46) switch
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
        18 => ["SETRANGE", Key(), random.Next(-1, 20).ToString(CultureInfo.InvariantCulture), Value()],
        19 => ["SUBSTR", Key(), Index(), Index()],
        20 => ["LCS", Key(), Key(), .. Pick([], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"])],
        21 => ["SETBIT", Key(), random.Next(0, 40).ToString(CultureInfo.InvariantCulture), random.Next(0, 3).ToString(CultureInfo.InvariantCulture)],
        22 => ["GETBIT", Key(), random.Next(0, 40).ToString(CultureInfo.InvariantCulture)],
        23 => ["BITCOUNT", Key(), .. Pick([], [Index(), Index()], [Index(), Index(), "BIT"], [Index(), Index(), "BYTE"])],
        24 => ["BITPOS", Key(), random.Next(0, 2).ToString(CultureInfo.InvariantCulture), .. Pick([], [Index()], [Index(), Index()], [Index(), Index(), "BIT"])],
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

    private string[] HashCommand() => random.Next(16) switch
    {
        0 => ["HSET", Key("h"), Member(), Value(), .. Pick([], [Member(), Value()])],
        1 => ["HSETNX", Key("h"), Member(), Value()],
        2 => ["HGET", Key("h"), Member()],
        3 => ["HMGET", Key("h"), Member(), Member()],
        4 => ["HDEL", Key("h"), Member(), .. Pick([], [Member()])],
        5 => ["HLEN", Key("h")],
        6 => ["HEXISTS", Key("h"), Member()],
        7 => ["HINCRBY", Key("h"), Member(), Value()],
        8 => ["HINCRBYFLOAT", Key("h"), Member(), Value()],
        9 => ["HSTRLEN", Key("h"), Member()],
        10 => ["HGETALL", Key("h")],
        11 => ["HKEYS", Key("h")],
        12 => ["HVALS", Key("h")],
        13 => ["HRANDFIELD", Key("h"), .. Pick([], [Count()], [Count(), "WITHVALUES"])],
        14 => ["HMSET", Key("h"), Member(), Value()],
        _ => ["OBJECT", "ENCODING", Key("h")],
    };

    private string[] ListCommand() => random.Next(24) switch
    {
        0 => ["LPUSH", Key("l"), Member(), .. Pick([], [Member(), Member()])],
        1 => ["RPUSH", Key("l"), Member(), .. Pick([], [Member()])],
        2 => [Pick(["LPUSHX"], ["RPUSHX"])[0], Key("l"), Member()],
        3 => [Pick(["LPOP"], ["RPOP"])[0], Key("l"), .. Pick([], [Count()])],
        4 => ["LLEN", Key("l")],
        5 => ["LRANGE", Key("l"), Index(), Index()],
        6 => ["LINDEX", Key("l"), Index()],
        7 => ["LSET", Key("l"), Index(), Member()],
        8 => ["LINSERT", Key("l"), Pick(["BEFORE"], ["AFTER"], ["MIDDLE"])[0], Member(), Member()],
        9 => ["LREM", Key("l"), Index(), Member()],
        10 => ["LTRIM", Key("l"), Index(), Index()],
        11 => ["LPOS", Key("l"), Member(), .. Pick([], ["RANK", Index()], ["COUNT", Count()], ["RANK", "-1", "COUNT", "0"], ["MAXLEN", "2"], ["COUNT", "2", "MAXLEN", Count()])],
        12 => ["LMOVE", Key("l"), Key("l"), End(), End()],
        13 => ["RPOPLPUSH", Key("l"), Key("l")],
        14 => ["LMPOP", Pick(["1"], ["2"], ["0"])[0], Key("l"), Key("l"), End(), .. Pick([], ["COUNT", Count()])],
        15 => [Pick(["BLPOP"], ["BRPOP"])[0], Key("l"), Key("l"), "0.01"],
        16 => ["BLMOVE", Key("l"), Key("l"), End(), End(), "0.01"],
        17 => ["BLMPOP", "0.01", "1", Key("l"), End(), .. Pick([], ["COUNT", "2"])],
        _ => ["LRANGE", Key("l"), "0", "-1"],
    };

    private string[] SetCommand() => random.Next(18) switch
    {
        0 => ["SADD", Key("s"), Member(), .. Pick([], [Member(), Member()])],
        1 => ["SREM", Key("s"), Member(), .. Pick([], [Member()])],
        2 => ["SMEMBERS", Key("s")],
        3 => ["SISMEMBER", Key("s"), Member()],
        4 => ["SMISMEMBER", Key("s"), Member(), Member()],
        5 => ["SCARD", Key("s")],
        6 => ["SMOVE", Key("s"), Key("s"), Member()],
        7 => ["SINTER", Key("s"), Key("s")],
        8 => ["SINTERCARD", "2", Key("s"), Key("s"), .. Pick([], ["LIMIT", Count()])],
        9 => ["SINTERSTORE", Key("s"), Key("s"), Key("s")],
        10 => ["SUNION", Key("s"), Key("s")],
        11 => ["SUNIONSTORE", Key("s"), Key("s"), Key("s")],
        12 => ["SDIFF", Key("s"), Key("s")],
        13 => ["SDIFFSTORE", Key("s"), Key("s"), Key("s")],
        14 => ["SRANDMEMBER", Key("s"), .. Pick([], [Count()], ["-3"])],
        15 => ["OBJECT", "ENCODING", Key("s")],
        _ => ["SADD", Key("s"), Pick(["1"], ["2"], ["-3"], ["100"])[0]],
    };

    private string[] SortedSetCommand() => random.Next(30) switch
    {
        0 => ["ZADD", Key("z"), .. Pick([], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "CH"], ["INCR"], ["NX", "GT"]), Score(), Member(), .. Pick([], [Score(), Member()])],
        1 => ["ZINCRBY", Key("z"), Score(), Member()],
        2 => ["ZSCORE", Key("z"), Member()],
        3 => ["ZMSCORE", Key("z"), Member(), Member()],
        4 => ["ZCARD", Key("z")],
        5 => ["ZCOUNT", Key("z"), Bound(), Bound()],
        6 => ["ZLEXCOUNT", LexKey(), LexBound(), LexBound()],
        7 => [Pick(["ZRANK"], ["ZREVRANK"])[0], Key("z"), Member()],
        8 => ["ZRANGE", Key("z"), Index(), Index(), .. Pick([], ["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"])],
        9 => ["ZRANGE", Key("z"), Bound(), Bound(), "BYSCORE", .. Pick([], ["REV"], ["LIMIT", Index(), Index()], ["WITHSCORES"])],
        10 => ["ZRANGE", LexKey(), LexBound(), LexBound(), "BYLEX", .. Pick([], ["REV"], ["LIMIT", "0", "2"], ["WITHSCORES"])],
        11 => ["ZRANGESTORE", Key("z"), Key("z"), Index(), Index()],
        12 => [Pick(["ZRANGEBYSCORE"], ["ZREVRANGEBYSCORE"])[0], Key("z"), Bound(), Bound(), .. Pick([], ["WITHSCORES"], ["LIMIT", "1", "1"])],
        13 => [Pick(["ZRANGEBYLEX"], ["ZREVRANGEBYLEX"])[0], LexKey(), LexBound(), LexBound()],
        14 => ["ZREM", Key("z"), Member(), .. Pick([], [Member()])],
        15 => ["ZREMRANGEBYRANK", Key("z"), Index(), Index()],
        16 => ["ZREMRANGEBYSCORE", Key("z"), Bound(), Bound()],
        17 => ["ZREMRANGEBYLEX", LexKey(), LexBound(), LexBound()],
        18 => [Pick(["ZPOPMIN"], ["ZPOPMAX"])[0], Key("z"), .. Pick([], [Count()])],
        19 => ["ZMPOP", "2", Key("z"), Key("z"), Pick(["MIN"], ["MAX"])[0], .. Pick([], ["COUNT", Count()])],
        20 => [Pick(["BZPOPMIN"], ["BZPOPMAX"])[0], Key("z"), "0.01"],
        21 => [Pick(["ZUNIONSTORE"], ["ZINTERSTORE"], ["ZDIFFSTORE"])[0], Key("z"), "2", Key("z"), Key("z"), .. Pick([], ["WEIGHTS", Score(), "2"], ["AGGREGATE", Pick(["SUM"], ["MIN"], ["MAX"])[0]])],
        22 => [Pick(["ZUNION"], ["ZINTER"], ["ZDIFF"])[0], "2", Key("z"), Key("z"), .. Pick([], ["WITHSCORES"])],
        23 => ["ZINTERCARD", "2", Key("z"), Key("z"), .. Pick([], ["LIMIT", "1"])],
        24 => ["ZRANDMEMBER", Key("z"), .. Pick([], [Count()], ["-2", "WITHSCORES"])],
        25 => ["OBJECT", "ENCODING", Key("z")],
        26 or 27 => ["ZADD", LexKey(), "0", Member(), .. Pick([], ["0", Member()])],
        _ => ["ZRANGE", Key("z"), "0", "-1", "WITHSCORES"],
    };

    /// <summary>Geo commands on geo sets and on plain sorted sets (whose scores decode as positions too).</summary>
    private string[] GeoCommand() => random.Next(9) switch
    {
        0 or 1 => ["GEOADD", GeoKey(), .. Pick([], ["NX"], ["XX"], ["CH"], ["XX", "CH"], ["NX", "XX"]), Longitude(), Latitude(), Member(), .. Pick([], [Longitude(), Latitude(), Member()])],
        2 => ["GEOPOS", GeoKey(), Member(), Member()],
        3 => ["GEOHASH", GeoKey(), Member(), Member()],
        4 => ["GEODIST", GeoKey(), Member(), Member(), .. Pick([], [Unit()])],
        5 => [Pick(["GEORADIUS"], ["GEORADIUS_RO"])[0], GeoKey(), Longitude(), Latitude(), Radius(), Unit(), .. GeoOptions()],
        6 => [Pick(["GEORADIUSBYMEMBER"], ["GEORADIUSBYMEMBER_RO"])[0], GeoKey(), Member(), Radius(), Unit(), .. GeoOptions()],
        7 => ["GEOSEARCH", GeoKey(), .. Pick(["FROMMEMBER", Member()], ["FROMLONLAT", Longitude(), Latitude()]),
            .. Pick(["BYRADIUS", Radius(), Unit()], ["BYBOX", Radius(), Radius(), Unit()]), .. GeoOptions()],
        _ => ["GEOSEARCHSTORE", GeoKey(), GeoKey(), "FROMLONLAT", Longitude(), Latitude(), "BYRADIUS", Radius(), Unit(), .. Pick([], ["STOREDIST"], ["COUNT", "2"], ["DESC", "COUNT", "1", "STOREDIST"])],
    };

    private string[] GeoOptions() => Pick([], ["ASC"], ["DESC"], ["WITHCOORD"], ["WITHDIST", "WITHHASH"], ["COUNT", Count()], ["COUNT", "1", "ANY"], ["WITHDIST", "ASC", "COUNT", "2"]);

    private string GeoKey() => random.Next(3) == 0 ? Key("z") : "g" + random.Next(3).ToString(CultureInfo.InvariantCulture);

    private string Longitude() => Longitudes[random.Next(Longitudes.Length)];

    private string Latitude() => Latitudes[random.Next(Latitudes.Length)];

    private string Radius() => Radii[random.Next(Radii.Length)];

    private string Unit() => Units[random.Next(Units.Length)];

    /// <summary>
    /// SORT over lists, sets and sorted sets. Orders that fall back to a set's or a sorted set's internal
    /// iteration (BY nosort on a set, ties under ALPHA BY) are Redis's own, so only lists get those.
    /// </summary>
    private string[] SortCommand()
    {
        var kind = random.Next(3);
        var family = kind switch { 0 => "l", 1 => "s", _ => "z" };
        var key = Key(family);
        string[] options = Pick([], ["ALPHA"], ["DESC"], ["BY", "k*"], ["LIMIT", Index(), Index()],
            ["GET", "#", "GET", "k*"], ["ALPHA", "DESC", "LIMIT", "0", "3"], ["BY", "k*", "GET", "h*->b"]);
        if (kind == 0 && random.Next(6) == 0)
        {
            // Elements tying under ALPHA BY keep their loading order, which only a list has in common with Redis.
            options = ["BY", "h*->a", "ALPHA"];
            key = family + random.Next(3).ToString(CultureInfo.InvariantCulture);
        }
        if (kind != 1 && random.Next(4) == 0)
        {
            options = ["BY", "nosort", .. Pick([], ["DESC"], ["LIMIT", "1", "2"])];
            key = family + random.Next(3).ToString(CultureInfo.InvariantCulture);
        }
        return random.Next(5) == 0
            ? ["SORT", key, .. options, "STORE", Key("l")]
            : [Pick(["SORT"], ["SORT_RO"])[0], key, .. options];
    }

    private string[] HyperLogLogCommand() => random.Next(5) switch
    {
        0 or 1 => ["PFADD", Key("p"), Member(), Value(), .. Pick([], [Value(), Member()])],
        2 => ["PFCOUNT", Key("p"), .. Pick([], [Key("p")])],
        3 => ["PFMERGE", Key("p"), Key("p"), .. Pick([], [Key("p")])],
        _ => ["GET", Key("p")],
    };

    /// <summary>A shared key, or one of three keys kept for the family named by <paramref name="prefix"/>.</summary>
    private string Key(string prefix) => random.Next(4) == 0 ? Key() : prefix + random.Next(3).ToString(CultureInfo.InvariantCulture);

    private string Key() => _keys[random.Next(_keys.Length)];

    /// <summary>
    /// Keys for lexicographic ranges, which only hold members of score 0: over mixed scores Redis's answers depend
    /// on its skip list's random levels.
    /// </summary>
    private string LexKey() => "y" + random.Next(2).ToString(CultureInfo.InvariantCulture);

    private string Value() => Values[random.Next(Values.Length)];

    private string Member() => Members[random.Next(Members.Length)];

    private string Score() => Scores[random.Next(Scores.Length)];

    private string Bound() => Bounds[random.Next(Bounds.Length)];

    private string LexBound() => LexBounds[random.Next(LexBounds.Length)];

    private string End() => random.Next(2) == 0 ? "LEFT" : "RIGHT";

    private string Count() => random.Next(-1, 5).ToString(CultureInfo.InvariantCulture);

    private string Index() => random.Next(-12, 12).ToString(CultureInfo.InvariantCulture);

    private string[] SetOptions() => Pick([], ["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", "10000"], ["PX", "0"], ["NX", "GET"], ["XX", "KEEPTTL"], ["PXAT", "99999999999999"]);

    private string[] Pick(params string[][] choices) => choices[random.Next(choices.Length)];
}
