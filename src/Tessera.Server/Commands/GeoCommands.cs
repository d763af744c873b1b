using System.Globalization;
using System.Text;
using Tessera.Core.Geo;
using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>
/// The geo commands (Redis's geo.c). A position is a member of a sorted set whose score is its 52-bit geohash
/// (<see cref="GeoHash"/>), so GEOADD is ZADD underneath (and propagates as ZADD), and a search scans the score
/// ranges of the cell around the centre and its eight neighbours, keeping the members inside the shape.
/// </summary>
internal static class GeoCommands
{
    /// <summary>Which command of the GEORADIUS/GEOSEARCH family runs (Redis's RADIUS_* and GEOSEARCH flags).</summary>
    [Flags]
    private enum SearchKind
    {
        Coordinates = 1,
        Member = 2,
        NoStore = 4,
        Search = 8,
        SearchStore = 16,
    }

    private enum Order
    {
        None,
        Ascending,
        Descending,
    }

    /// <summary>A member found by a search.</summary>
    private readonly record struct Found(byte[] Member, double Score, double Longitude, double Latitude, double Distance);

    public static void Register(CommandRegistry r)
    {
        r.Add("geoadd", Add);
        r.Add("geopos", c => PerMember(c, WritePosition, nullArray: true));
        r.Add("geohash", c => PerMember(c, (w, score) => w.WriteBulk(GeoHash.StandardText(score)), nullArray: false));
        r.Add("geodist", DistanceBetween);
        r.Add("georadius", c => Search(c, 1, SearchKind.Coordinates));
        r.Add("georadius_ro", c => Search(c, 1, SearchKind.Coordinates | SearchKind.NoStore));
        r.Add("georadiusbymember", c => Search(c, 1, SearchKind.Member));
        r.Add("georadiusbymember_ro", c => Search(c, 1, SearchKind.Member | SearchKind.NoStore));
        r.Add("geosearch", c => Search(c, 1, SearchKind.Search));
        r.Add("geosearchstore", c => Search(c, 2, SearchKind.Search | SearchKind.SearchStore));
    }

    /// <summary>GEOADD key [NX|XX] [CH] longitude latitude member ...: ZADD with each position's geohash as the score.</summary>
    private static void Add(CommandContext c)
    {
        var first = 2;
        bool nx = false, xx = false;
        for (; first < c.ArgCount; first++)
        {
            if (c.ArgIs(first, "nx"u8))
            {
                nx = true;
            }
            else if (c.ArgIs(first, "xx"u8))
            {
                xx = true;
            }
            else if (!c.ArgIs(first, "ch"u8))
            {
                break;
            }
        }
        if ((c.ArgCount - first) % 3 != 0 || (xx && nx))
        {
            c.SyntaxError();
            return;
        }
        var elements = (c.ArgCount - first) / 3;
        var zadd = new byte[first + (elements * 2)][];
        zadd[0] = "zadd"u8.ToArray();
        for (var i = 1; i < first; i++)
        {
            zadd[i] = c.Arg(i).ToArray();
        }
        for (var i = 0; i < elements; i++)
        {
            var at = first + (i * 3);
            if (!TryReadPosition(c, at, out var longitude, out var latitude))
            {
                return;
            }
            zadd[first + (i * 2)] = Encoding.ASCII.GetBytes(GeoHash.Score(longitude, latitude).ToString(CultureInfo.InvariantCulture));
            zadd[first + (i * 2) + 1] = c.Arg(at + 2).ToArray();
        }
        // As Redis, the command becomes the ZADD it stands for: its replies, its events, and what propagates.
        var sent = c.Args;
        var rewritten = new Request();
        rewritten.Set(zadd);
        var changesBefore = c.Server.Changes.Total;
        c.Args = rewritten;
        try
        {
            SortedSetCommands.Add(c, ZAddFlags.None, incrOnly: false);
        }
        finally
        {
            c.Args = sent;
        }
        if (c.Server.Changes.Total != changesBefore)
        {
            c.PropagateAs(zadd);
        }
    }

    /// <summary>
    /// GEOPOS and GEOHASH key member ...: one answer per member written by <paramref name="write"/> from its score;
    /// a missing member (or key) gets a null array (GEOPOS) or a null bulk string (GEOHASH).
    /// </summary>
    private static void PerMember(CommandContext c, Action<RespWriter, double> write, bool nullArray)
    {
        if (!c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        c.Reply.WriteArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (zset is not null && zset.TryGetScore(c.Arg(i), out var score))
            {
                write(c.Reply, score);
            }
            else if (nullArray)
            {
                c.Reply.WriteNullArray();
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
        }
    }

    /// <summary>GEOPOS's [longitude, latitude].</summary>
    private static void WritePosition(RespWriter w, double score)
    {
        var (longitude, latitude) = GeoHash.PositionOf(score);
        w.WriteArrayHeader(2);
        WriteCoordinate(w, longitude);
        WriteCoordinate(w, latitude);
    }

    /// <summary>GEODIST key member1 member2 [unit]: null when either member is missing.</summary>
    private static void DistanceBetween(CommandContext c)
    {
        double toMeters = 1;
        if (c.ArgCount == 5)
        {
            if (!TryReadUnit(c, 4, out toMeters))
            {
                return;
            }
        }
        else if (c.ArgCount > 5)
        {
            c.SyntaxError();
            return;
        }
        if (!c.TryGet(c.Arg(1), out SortedSetValue? zset))
        {
            return;
        }
        if (zset is null || !zset.TryGetScore(c.Arg(2), out var score1) || !zset.TryGetScore(c.Arg(3), out var score2))
        {
            c.Reply.WriteNullBulk();
            return;
        }
        var (longitude1, latitude1) = GeoHash.PositionOf(score1);
        var (longitude2, latitude2) = GeoHash.PositionOf(score2);
        WriteDistance(c.Reply, GeoHash.Distance(longitude1, latitude1, longitude2, latitude2) / toMeters);
    }

    /// <summary>
    /// GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and GEOSEARCHSTORE (Redis's georadiusGeneric):
    /// options are read and checked in Redis's order, so the same error wins.
    /// </summary>
    private static void Search(CommandContext c, int sourceIndex, SearchKind kind)
    {
        if (!c.TryGet(c.Arg(sourceIndex), out SortedSetValue? zset))
        {
            return;
        }
        byte[]? storeKey = null;
        var storeDistances = false;
        double longitude = 0, latitude = 0, conversion = 0, radius = 0, width = 0, height = 0;
        var isBox = false;
        int first;
        if ((kind & SearchKind.Coordinates) != 0)
        {
            first = 6;
            if (!TryReadPosition(c, 2, out longitude, out latitude) || !TryReadDistance(c, 4, out radius, out conversion))
            {
                return;
            }
        }
        else if ((kind & SearchKind.Member) != 0)
        {
            first = 5;
            // Without the key, the options are still read: whether STORE was given decides the reply.
            if (zset is not null)
            {
                if (!TryReadMemberPosition(c, zset, 2, out longitude, out latitude) || !TryReadDistance(c, 3, out radius, out conversion))
                {
                    return;
                }
            }
        }
        else
        {
            first = sourceIndex + 1;
            if ((kind & SearchKind.SearchStore) != 0)
            {
                storeKey = c.Arg(1).ToArray();
            }
        }
        bool withDistance = false, withHash = false, withCoordinates = false, any = false;
        bool fromMember = false, fromLocation = false, byRadius = false, byBox = false;
        var order = Order.None;
        long count = 0;
        var search = (kind & SearchKind.Search) != 0;
        var storeAllowed = (kind & (SearchKind.NoStore | SearchKind.Search)) == 0;
        var remaining = c.ArgCount - first;
        for (var i = 0; i < remaining; i++)
        {
            var at = first + i;
            if (c.ArgIs(at, "withdist"u8))
            {
                withDistance = true;
            }
            else if (c.ArgIs(at, "withhash"u8))
            {
                withHash = true;
            }
            else if (c.ArgIs(at, "withcoord"u8))
            {
                withCoordinates = true;
            }
            else if (c.ArgIs(at, "any"u8))
            {
                any = true;
            }
            else if (c.ArgIs(at, "asc"u8))
            {
                order = Order.Ascending;
            }
            else if (c.ArgIs(at, "desc"u8))
            {
                order = Order.Descending;
            }
            else if (c.ArgIs(at, "count"u8) && i + 1 < remaining)
            {
                if (!c.TryGetLong(at + 1, out count))
                {
                    return;
                }
                if (count <= 0)
                {
                    c.Error("ERR COUNT must be > 0");
                    return;
                }
                i++;
            }
            else if ((c.ArgIs(at, "store"u8) || c.ArgIs(at, "storedist"u8)) && i + 1 < remaining && storeAllowed)
            {
                storeDistances = c.ArgIs(at, "storedist"u8);
                storeKey = c.Arg(at + 1).ToArray();
                i++;
            }
            else if (c.ArgIs(at, "storedist"u8) && (kind & SearchKind.SearchStore) != 0)
            {
                storeDistances = true;
            }
            else if (c.ArgIs(at, "frommember"u8) && i + 1 < remaining && search && !fromLocation)
            {
                if (zset is not null && !TryReadMemberPosition(c, zset, at + 1, out longitude, out latitude))
                {
                    return;
                }
                fromMember = true;
                i++;
            }
            else if (c.ArgIs(at, "fromlonlat"u8) && i + 2 < remaining && search && !fromMember)
            {
                if (!TryReadPosition(c, at + 1, out longitude, out latitude))
                {
                    return;
                }
                fromLocation = true;
                i += 2;
            }
            else if (c.ArgIs(at, "byradius"u8) && i + 2 < remaining && search && !byBox)
            {
                if (!TryReadDistance(c, at + 1, out radius, out conversion))
                {
                    return;
                }
                isBox = false;
                byRadius = true;
                i += 2;
            }
            else if (c.ArgIs(at, "bybox"u8) && i + 3 < remaining && search && !byRadius)
            {
                if (!TryReadBox(c, at + 1, out width, out height, out conversion))
                {
                    return;
                }
                isBox = true;
                byBox = true;
                i += 3;
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (storeKey is not null && (withDistance || withHash || withCoordinates))
        {
            c.Error((kind & SearchKind.SearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        if (search && !(fromMember || fromLocation))
        {
            c.Error($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {Encoding.UTF8.GetString(c.Arg(0))}");
            return;
        }
        if (search && !(byRadius || byBox))
        {
            c.Error($"ERR exactly one of BYRADIUS and BYBOX can be specified for {Encoding.UTF8.GetString(c.Arg(0))}");
            return;
        }
        if (any && count == 0)
        {
            c.Error("ERR the ANY argument requires COUNT argument");
            return;
        }
        if (zset is null)
        {
            if (storeKey is null)
            {
                c.Reply.WriteArrayHeader(0);
                return;
            }
            if (c.Db.Delete(storeKey))
            {
                c.Modified(storeKey, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        // COUNT keeps the nearest ones, so it sorts unless ANY asked for the first found.
        if (count != 0 && order == Order.None && !any)
        {
            order = Order.Ascending;
        }
        var shape = new GeoShape(longitude, latitude, conversion, radius, width, height, isBox);
        var found = Scan(zset, shape, any ? count : 0);
        if (found.Count == 0 && storeKey is null)
        {
            c.Reply.WriteArrayHeader(0);
            return;
        }
        if (order != Order.None)
        {
            // A stable sort, as glibc's qsort (a merge sort) leaves equal distances in the order found.
            found = order == Order.Ascending
                ? [.. found.OrderBy(f => f.Distance)]
                : [.. found.OrderByDescending(f => f.Distance)];
        }
        var returned = count == 0 || found.Count < count ? found.Count : (int)count;
        if (storeKey is not null)
        {
            Store(c, storeKey, found, returned, storeDistances, conversion, search);
            return;
        }
        var options = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0);
        c.Reply.WriteArrayHeader(returned);
        for (var i = 0; i < returned; i++)
        {
            var point = found[i];
            if (options > 0)
            {
                c.Reply.WriteArrayHeader(options + 1);
            }
            c.Reply.WriteBulk(point.Member);
            if (withDistance)
            {
                WriteDistance(c.Reply, point.Distance / conversion);
            }
            if (withHash)
            {
                c.Reply.WriteInteger((long)point.Score);
            }
            if (withCoordinates)
            {
                c.Reply.WriteArrayHeader(2);
                WriteCoordinate(c.Reply, point.Longitude);
                WriteCoordinate(c.Reply, point.Latitude);
            }
        }
    }

    /// <summary>
    /// The members inside <paramref name="shape"/>, cell by cell in Redis's order (a neighbour equal to the cell
    /// scanned just before is skipped); with <paramref name="limit"/> (ANY) the scan stops once that many were found.
    /// </summary>
    private static List<Found> Scan(SortedSetValue zset, GeoShape shape, long limit)
    {
        var found = new List<Found>();
        var cells = GeoHash.SearchCells(shape);
        // As Redis: a neighbour equal to the one scanned before it is skipped (the centre itself never counts).
        var last = 0;
        for (var i = 0; i < cells.Length; i++)
        {
            if (cells[i].IsZero || (last > 0 && cells[i] == cells[last]))
            {
                continue;
            }
            if (limit > 0 && found.Count >= limit)
            {
                break;
            }
            var (min, max) = GeoHash.ScoreSpan(cells[i]);
            var range = new ScoreRange(min, false, max, true);
            foreach (var (member, score) in zset.Walk(zset.FirstRankAtOrAbove(range), reverse: false))
            {
                if (!range.BelowMax(score))
                {
                    break;
                }
                var (longitude, latitude) = GeoHash.PositionOf(score);
                if (shape.Contains(longitude, latitude, out var distance))
                {
                    found.Add(new Found(member, score, longitude, latitude, distance));
                }
                if (limit > 0 && found.Count >= limit)
                {
                    break;
                }
            }
            last = i;
        }
        return found;
    }

    /// <summary>STORE/STOREDIST and GEOSEARCHSTORE: the first <paramref name="returned"/> results become a sorted set.</summary>
    private static void Store(CommandContext c, byte[] storeKey, List<Found> found, int returned, bool distances, double conversion, bool search)
    {
        var selected = new List<(byte[] Member, double Score)>(returned);
        for (var i = 0; i < returned; i++)
        {
            selected.Add((found[i].Member, distances ? found[i].Distance / conversion : found[i].Score));
        }
        SortedSetCommands.StoreSorted(c, storeKey, selected, search ? "geosearchstore"u8 : "georadiusstore"u8, returned);
    }

    /// <summary>A longitude and latitude at <paramref name="at"/>, within the grid (Redis's extractLongLatOrReply).</summary>
    private static bool TryReadPosition(CommandContext c, int at, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!TryReadDouble(c, at, null, out longitude) || !TryReadDouble(c, at + 1, null, out latitude))
        {
            return false;
        }
        if (longitude is < GeoHash.LongitudeMin or > GeoHash.LongitudeMax || latitude is < GeoHash.LatitudeMin or > GeoHash.LatitudeMax)
        {
            c.Error($"ERR invalid longitude,latitude pair {FormatFixed6(longitude)},{FormatFixed6(latitude)}");
            return false;
        }
        return true;
    }

    private static bool TryReadMemberPosition(CommandContext c, SortedSetValue zset, int at, out double longitude, out double latitude)
    {
        if (!zset.TryGetScore(c.Arg(at), out var score))
        {
            (longitude, latitude) = (0, 0);
            c.Error("ERR could not decode requested zset member");
            return false;
        }
        (longitude, latitude) = GeoHash.PositionOf(score);
        return true;
    }

    /// <summary>"radius unit" at <paramref name="at"/>; <paramref name="conversion"/> is meters per unit.</summary>
    private static bool TryReadDistance(CommandContext c, int at, out double radius, out double conversion)
    {
        conversion = 0;
        if (!TryReadDouble(c, at, "ERR need numeric radius", out radius))
        {
            return false;
        }
        if (radius < 0)
        {
            c.Error("ERR radius cannot be negative");
            return false;
        }
        return TryReadUnit(c, at + 1, out conversion);
    }

    /// <summary>"width height unit" at <paramref name="at"/>.</summary>
    private static bool TryReadBox(CommandContext c, int at, out double width, out double height, out double conversion)
    {
        (height, conversion) = (0, 0);
        if (!TryReadDouble(c, at, "ERR need numeric width", out width) || !TryReadDouble(c, at + 1, "ERR need numeric height", out height))
        {
            return false;
        }
        if (height < 0 || width < 0)
        {
            c.Error("ERR height or width cannot be negative");
            return false;
        }
        return TryReadUnit(c, at + 2, out conversion);
    }

    private static bool TryReadUnit(CommandContext c, int at, out double toMeters)
    {
        toMeters = c.ArgIs(at, "m"u8) ? 1
            : c.ArgIs(at, "km"u8) ? 1000
            : c.ArgIs(at, "ft"u8) ? 0.3048
            : c.ArgIs(at, "mi"u8) ? 1609.34
            : -1;
        if (toMeters < 0)
        {
            c.Error("ERR unsupported unit provided. please use M, KM, FT, MI");
            return false;
        }
        return true;
    }

    private static bool TryReadDouble(CommandContext c, int at, string? error, out double value)
    {
        if (RedisDouble.TryParse(c.Arg(at), out value))
        {
            return true;
        }
        if (error is null)
        {
            c.Error(Replies.NotFloat);
        }
        else
        {
            c.Error(error);
        }
        return false;
    }

    /// <summary>A coordinate as Redis's addReplyHumanLongDouble writes it ("%.17Lf" without trailing zeros).</summary>
    private static void WriteCoordinate(RespWriter w, double value)
        => w.WriteDouble(Encoding.ASCII.GetBytes(ExtendedFloat.FromDouble(value).FormatHuman()));

    /// <summary>A distance with four decimals, rounded half to even (Redis's fixedpoint_d2string), always a bulk string.</summary>
    private static void WriteDistance(RespWriter w, double value)
    {
        var scaled = (long)Math.Round(value * 10000.0, MidpointRounding.ToEven);
        var magnitude = Math.Abs((decimal)scaled);
        w.WriteBulk(FormattableString.Invariant($"{(scaled < 0 ? "-" : "")}{decimal.Truncate(magnitude / 10000)}.{magnitude % 10000:0000}"));
    }

    /// <summary>C's "%f": six decimals, "inf"/"-inf" for infinities.</summary>
    private static string FormatFixed6(double value)
        => double.IsInfinity(value) ? (value < 0 ? "-inf" : "inf") : value.ToString("F6", CultureInfo.InvariantCulture);
}
