using Tessera.Core.Geo;
using Tessera.Core.Text;
using Xunit;

namespace Tessera.Core.Tests;

/// <summary>Geohash arithmetic against values redis-server 7.0 produces (its geo.tcl test data).</summary>
public class GeoHashTests
{
    [Theory]
    [InlineData(-74.0131604, 40.7126674, 1791873972053020UL)]
    [InlineData(-73.9903085, 40.7362513, 1791875485187452UL)]
    [InlineData(-73.9733487, 40.7648057, 1791875761332224UL)]
    [InlineData(-73.9564142, 40.7480973, 1791875796750882UL)]
    [InlineData(-73.9454966, 40.747533, 1791875804419201UL)]
    [InlineData(-73.9375699, 40.7498929, 1791875830079666UL)]
    [InlineData(-73.7858139, 40.6428986, 1791895905559723UL)]
    public void Scores_are_redis_geohashes(double longitude, double latitude, ulong score)
        => Assert.Equal(score, GeoHash.Score(longitude, latitude));

    [Fact]
    public void Positions_decode_to_the_cell_centre_as_redis_prints_them()
    {
        // GEOADD Sicily 13.361389 38.115556 Palermo; GEOPOS answers these texts.
        var (longitude, latitude) = GeoHash.PositionOf(GeoHash.Score(13.361389, 38.115556));
        Assert.Equal("13.36138933897018433", ExtendedFloat.FromDouble(longitude).FormatHuman());
        Assert.Equal("38.11555639549629859", ExtendedFloat.FromDouble(latitude).FormatHuman());
    }

    [Fact]
    public void Standard_text_uses_the_full_latitude_range()
    {
        Assert.Equal("sqc8b49rny0", GeoHash.StandardText(GeoHash.Score(13.361389, 38.115556)));
        Assert.Equal("sqdtr74hyu0", GeoHash.StandardText(GeoHash.Score(15.087269, 37.502669)));
    }

    [Fact]
    public void Distances_are_haversine_over_redis_earth_radius()
    {
        var palermo = GeoHash.PositionOf(GeoHash.Score(13.361389, 38.115556));
        var catania = GeoHash.PositionOf(GeoHash.Score(15.087269, 37.502669));
        // GEODIST Sicily Palermo Catania = "166274.1516".
        Assert.Equal(166274.1516, Math.Round(GeoHash.Distance(palermo.Longitude, palermo.Latitude, catania.Longitude, catania.Latitude), 4));
    }

    [Theory]
    [InlineData(181, 0)]
    [InlineData(0, 85.06)]
    [InlineData(-180.1, 0)]
    public void Positions_outside_the_grid_are_refused(double longitude, double latitude)
        => Assert.False(GeoHash.TryEncode(longitude, latitude, GeoHash.MaxStep, out _));

    [Fact]
    public void A_huge_radius_scans_the_whole_grid_once()
    {
        var cells = GeoHash.SearchCells(new GeoShape(0, 0, 1000, 50000, 0, 0, IsBox: false));
        Assert.Equal(1, cells[0].Step);
        Assert.Equal(9, cells.Length);
    }

    [Theory]
    [InlineData(-5.0, 0xFFFFFFFFFFFFFFFBUL)]
    [InlineData(double.NegativeInfinity, 0x8000000000000000UL)]
    [InlineData(double.PositiveInfinity, 0UL)]
    [InlineData(1e300, 0UL)]
    [InlineData(4503599627370496.0, 4503599627370496UL)]
    public void Any_score_converts_as_c_casts_it(double score, ulong bits)
        => Assert.Equal(bits, GeoHash.ScoreBits(score));
}
