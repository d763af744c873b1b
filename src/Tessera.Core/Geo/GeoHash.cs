namespace Tessera.Core.Geo;

/// <summary>A geohash of <see cref="Step"/> bits per axis: latitude in the even bits, longitude in the odd ones.</summary>
public readonly record struct GeoHashBits(ulong Bits, int Step)
{
    /// <summary>A neighbour dropped from a search.</summary>
    public bool IsZero => Bits == 0 && Step == 0;
}

/// <summary>The cell a geohash stands for.</summary>
public readonly record struct GeoCell(double LongitudeMin, double LongitudeMax, double LatitudeMin, double LatitudeMax);

/// <summary>
/// Redis's geohash arithmetic (geohash.c, geohash_helper.c), kept bit for bit so that scores, positions, distances
/// and search results match redis-server: a position is a 52-bit geohash (26 steps per axis) over longitude
/// -180..180 and the Web Mercator latitudes -85.05112878..85.05112878, stored as a sorted set score.
/// </summary>
public static class GeoHash
{
    public const double LongitudeMin = -180;
    public const double LongitudeMax = 180;
    public const double LatitudeMin = -85.05112878;
    public const double LatitudeMax = 85.05112878;

    /// <summary>26 steps per axis: 52 bits, what a double holds exactly.</summary>
    public const int MaxStep = 26;

    /// <summary>The Earth's quadratic mean radius for WGS-84, Redis's constant.</summary>
    public const double EarthRadiusMeters = 6372797.560856;

    private const double MercatorMax = 20037726.37;
    private const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>
    /// Encodes a position at <paramref name="step"/> bits per axis over the latitude range given (Redis's
    /// geohashEncode); false outside the supported range.
    /// </summary>
    public static bool TryEncode(double longitude, double latitude, int step, double latitudeMin, double latitudeMax, out GeoHashBits hash)
    {
        hash = default;
        if (step is < 1 or > 32
            || longitude > LongitudeMax || longitude < LongitudeMin || latitude > LatitudeMax || latitude < LatitudeMin
            || latitude < latitudeMin || latitude > latitudeMax)
        {
            return false;
        }
        var latitudeOffset = (latitude - latitudeMin) / (latitudeMax - latitudeMin) * (1UL << step);
        var longitudeOffset = (longitude - LongitudeMin) / (LongitudeMax - LongitudeMin) * (1UL << step);
        hash = new GeoHashBits(Interleave((uint)latitudeOffset, (uint)longitudeOffset), step);
        return true;
    }

    /// <summary>Encodes a position on Redis's (Mercator) grid.</summary>
    public static bool TryEncode(double longitude, double latitude, int step, out GeoHashBits hash)
        => TryEncode(longitude, latitude, step, LatitudeMin, LatitudeMax, out hash);

    /// <summary>The sorted set score of a position: its geohash at 26 steps.</summary>
    public static ulong Score(double longitude, double latitude)
    {
        TryEncode(longitude, latitude, MaxStep, out var hash);
        return Align52(hash);
    }

    /// <summary>The cell of <paramref name="hash"/> (Redis's geohashDecode) over the latitude range given.</summary>
    public static GeoCell Decode(GeoHashBits hash, double latitudeMin = LatitudeMin, double latitudeMax = LatitudeMax)
    {
        var separated = Deinterleave(hash.Bits);
        var latitudeScale = latitudeMax - latitudeMin;
        var longitudeScale = LongitudeMax - LongitudeMin;
        var latitudeBits = (uint)separated;
        var longitudeBits = (uint)(separated >> 32);
        double cells = 1UL << hash.Step;
        // "+ 1" wraps in 32 bits, as Redis's does.
        return new GeoCell(
            LongitudeMin + (longitudeBits * 1.0 / cells * longitudeScale),
            LongitudeMin + ((longitudeBits + 1u) * 1.0 / cells * longitudeScale),
            latitudeMin + (latitudeBits * 1.0 / cells * latitudeScale),
            latitudeMin + ((latitudeBits + 1u) * 1.0 / cells * latitudeScale));
    }

    /// <summary>
    /// The position a sorted set score stands for: the centre of its cell, kept within the grid (Redis's
    /// decodeGeohash). Any score decodes, as in Redis, whatever put it there.
    /// </summary>
    public static (double Longitude, double Latitude) PositionOf(double score)
    {
        var cell = Decode(new GeoHashBits(ScoreBits(score), MaxStep));
        var longitude = Math.Clamp((cell.LongitudeMin + cell.LongitudeMax) / 2, LongitudeMin, LongitudeMax);
        var latitude = Math.Clamp((cell.LatitudeMin + cell.LatitudeMax) / 2, LatitudeMin, LatitudeMax);
        return (longitude, latitude);
    }

    /// <summary>A geohash's bits moved to the top of 52 (Redis's geohashAlign52Bits).</summary>
    public static ulong Align52(GeoHashBits hash) => hash.Bits << (52 - (hash.Step * 2));

    /// <summary>
    /// The standard 11-character geohash (latitude over -90..90) of a score, as GEOHASH prints it: the position
    /// re-encoded at 26 steps, the eleventh character always '0'.
    /// </summary>
    public static string StandardText(double score)
    {
        const string alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
        var (longitude, latitude) = PositionOf(score);
        TryEncode(longitude, latitude, MaxStep, -90, 90, out var hash);
        Span<char> text = stackalloc char[11];
        for (var i = 0; i < 10; i++)
        {
            text[i] = alphabet[(int)((hash.Bits >> (52 - ((i + 1) * 5))) & 0x1f)];
        }
        text[10] = '0';
        return new string(text);
    }

    /// <summary>Great-circle distance in meters (Redis's geohashGetDistance, haversine).</summary>
    public static double Distance(double longitude1, double latitude1, double longitude2, double latitude2)
    {
        var longitude1Radians = longitude1 * DegreesToRadians;
        var longitude2Radians = longitude2 * DegreesToRadians;
        var v = Math.Sin((longitude2Radians - longitude1Radians) / 2);
        if (v == 0.0)
        {
            // The same meridian: only the latitudes differ.
            return LatitudeDistance(latitude1, latitude2);
        }
        var latitude1Radians = latitude1 * DegreesToRadians;
        var latitude2Radians = latitude2 * DegreesToRadians;
        var u = Math.Sin((latitude2Radians - latitude1Radians) / 2);
        var a = (u * u) + (Math.Cos(latitude1Radians) * Math.Cos(latitude2Radians) * v * v);
        return 2.0 * EarthRadiusMeters * Math.Asin(Math.Sqrt(a));
    }

    /// <summary>Distance along a meridian, in meters.</summary>
    public static double LatitudeDistance(double latitude1, double latitude2)
        => EarthRadiusMeters * Math.Abs((latitude2 * DegreesToRadians) - (latitude1 * DegreesToRadians));

    /// <summary>
    /// The cells to scan for a search (Redis's geohashCalculateAreasByShapeWGS84): the centre's cell at a step
    /// coarse enough for the shape, then north, south, east, west, north-east, north-west, south-east and
    /// south-west, a neighbour that cannot hold a result dropped (zero).
    /// </summary>
    public static GeoHashBits[] SearchCells(GeoShape shape)
    {
        var (minLongitude, minLatitude, maxLongitude, maxLatitude) = shape.BoundingBox();
        var steps = EstimateSteps(shape.RadiusMeters, shape.Latitude);
        TryEncode(shape.Longitude, shape.Latitude, steps, out var hash);
        var cells = Neighbourhood(hash);
        // Near the edge of the centre's cell the step may be too fine for a neighbour to cover the shape.
        if (steps > 1
            && (Decode(cells[1]).LatitudeMax < maxLatitude || Decode(cells[2]).LatitudeMin > minLatitude
                || Decode(cells[3]).LongitudeMax < maxLongitude || Decode(cells[4]).LongitudeMin > minLongitude))
        {
            steps--;
            TryEncode(shape.Longitude, shape.Latitude, steps, out hash);
            cells = Neighbourhood(hash);
        }
        if (steps >= 2)
        {
            var area = Decode(hash);
            if (area.LatitudeMin < minLatitude)
            {
                cells[2] = cells[7] = cells[8] = default;
            }
            if (area.LatitudeMax > maxLatitude)
            {
                cells[1] = cells[5] = cells[6] = default;
            }
            if (area.LongitudeMin < minLongitude)
            {
                cells[4] = cells[8] = cells[6] = default;
            }
            if (area.LongitudeMax > maxLongitude)
            {
                cells[3] = cells[7] = cells[5] = default;
            }
        }
        return cells;
    }

    /// <summary>Scores from the first of a cell (included) to the first after it (excluded).</summary>
    public static (ulong Min, ulong Max) ScoreSpan(GeoHashBits cell)
        => (Align52(cell), Align52(cell with { Bits = cell.Bits + 1 }));

    /// <summary>Steps per axis whose cells are about the size of the search (Redis's geohashEstimateStepsByRadius).</summary>
    internal static int EstimateSteps(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0)
        {
            return MaxStep;
        }
        var step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        // Cells narrow towards the poles.
        if (latitude is > 66 or < -66)
        {
            step--;
            if (latitude is > 80 or < -80)
            {
                step--;
            }
        }
        return Math.Clamp(step, 1, MaxStep);
    }

    /// <summary>The sorted-set score's bits as C's (uint64_t) cast of the double gives them on x86-64.</summary>
    internal static ulong ScoreBits(double score)
    {
        const double TwoTo63 = 9223372036854775808.0;
        if (double.IsNaN(score) || score < -TwoTo63)
        {
            return 0x8000000000000000UL;
        }
        if (score >= TwoTo63)
        {
            // Converted less 2^63 with the top bit flipped back; still too large, the conversion's 2^63 flips to 0.
            var reduced = score - TwoTo63;
            return reduced >= TwoTo63 ? 0 : (ulong)(long)reduced ^ 0x8000000000000000UL;
        }
        return (ulong)(long)score;
    }

    /// <summary>The cell and its neighbours in Redis's scan order: self, N, S, E, W, NE, NW, SE, SW.</summary>
    private static GeoHashBits[] Neighbourhood(GeoHashBits hash) =>
    [
        hash,
        Move(hash, 0, 1),
        Move(hash, 0, -1),
        Move(hash, 1, 0),
        Move(hash, -1, 0),
        Move(hash, 1, 1),
        Move(hash, -1, 1),
        Move(hash, 1, -1),
        Move(hash, -1, -1),
    ];

    /// <summary>The cell <paramref name="dx"/> east and <paramref name="dy"/> north, wrapping around the grid.</summary>
    private static GeoHashBits Move(GeoHashBits hash, int dx, int dy)
    {
        var shift = 64 - (hash.Step * 2);
        var bits = MoveAxis(hash.Bits, 0xaaaaaaaaaaaaaaaaUL, dx, shift);
        return hash with { Bits = MoveAxis(bits, 0x5555555555555555UL, dy, shift) };
    }

    /// <summary>
    /// Adds <paramref name="delta"/> (-1, 0 or 1) to the coordinate in the bits of <paramref name="axis"/>: the
    /// other axis's bits are set so the carry runs through them, then put back.
    /// </summary>
    private static ulong MoveAxis(ulong bits, ulong axis, int delta, int shift)
    {
        if (delta == 0)
        {
            return bits;
        }
        var moving = bits & axis;
        var gaps = ~axis >> shift;
        moving = delta > 0 ? moving + (gaps + 1) : (moving | gaps) - (gaps + 1);
        return (moving & (axis >> shift)) | (bits & ~axis);
    }

    /// <summary>Spreads <paramref name="x"/> over the even bits and <paramref name="y"/> over the odd ones.</summary>
    private static ulong Interleave(uint x, uint y) => Spread(x) | (Spread(y) << 1);

    private static ulong Spread(ulong v)
    {
        v = (v | (v << 16)) & 0x0000FFFF0000FFFFUL;
        v = (v | (v << 8)) & 0x00FF00FF00FF00FFUL;
        v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | (v << 2)) & 0x3333333333333333UL;
        return (v | (v << 1)) & 0x5555555555555555UL;
    }

    /// <summary>The inverse of <see cref="Interleave"/>: even bits in the low half, odd bits in the high half.</summary>
    private static ulong Deinterleave(ulong interleaved) => Gather(interleaved) | (Gather(interleaved >> 1) << 32);

    private static ulong Gather(ulong v)
    {
        v &= 0x5555555555555555UL;
        v = (v | (v >> 1)) & 0x3333333333333333UL;
        v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | (v >> 4)) & 0x00FF00FF00FF00FFUL;
        v = (v | (v >> 8)) & 0x0000FFFF0000FFFFUL;
        return (v | (v >> 16)) & 0x00000000FFFFFFFFUL;
    }
}
