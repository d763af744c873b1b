namespace Tessera.Core.Geo;

/// <summary>
/// A search area around a centre: a circle of <see cref="Radius"/> (GEORADIUS, GEOSEARCH BYRADIUS) or a
/// <see cref="Width"/> x <see cref="Height"/> box (GEOSEARCH BYBOX), in a unit of <see cref="Conversion"/> meters.
/// </summary>
public readonly record struct GeoShape(double Longitude, double Latitude, double Conversion, double Radius, double Width, double Height, bool IsBox)
{
    private const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>The distance from the centre to the farthest point of the shape, in meters.</summary>
    public double RadiusMeters => (IsBox ? Math.Sqrt((Width / 2 * (Width / 2)) + (Height / 2 * (Height / 2))) : Radius) * Conversion;

    /// <summary>
    /// True when the position is inside the shape, with its distance from the centre in meters (Redis's
    /// geoWithinShape): a box compares the distances along the meridian and the parallel first.
    /// </summary>
    public bool Contains(double longitude, double latitude, out double distance)
    {
        if (!IsBox)
        {
            distance = GeoHash.Distance(Longitude, Latitude, longitude, latitude);
            return distance <= Radius * Conversion;
        }
        distance = 0;
        if (GeoHash.LatitudeDistance(latitude, Latitude) > Height * Conversion / 2)
        {
            return false;
        }
        if (GeoHash.Distance(longitude, latitude, Longitude, latitude) > Width * Conversion / 2)
        {
            return false;
        }
        distance = GeoHash.Distance(Longitude, Latitude, longitude, latitude);
        return true;
    }

    /// <summary>The longitudes and latitudes the shape spans (Redis's geohashBoundingBox).</summary>
    public (double MinLongitude, double MinLatitude, double MaxLongitude, double MaxLatitude) BoundingBox()
    {
        var height = Conversion * (IsBox ? Height / 2 : Radius);
        var width = Conversion * (IsBox ? Width / 2 : Radius);
        var latitudeDelta = height / GeoHash.EarthRadiusMeters / DegreesToRadians;
        var longitudeDeltaTop = width / GeoHash.EarthRadiusMeters / Math.Cos((Latitude + latitudeDelta) * DegreesToRadians) / DegreesToRadians;
        var longitudeDeltaBottom = width / GeoHash.EarthRadiusMeters / Math.Cos((Latitude - latitudeDelta) * DegreesToRadians) / DegreesToRadians;
        // The hemispheres narrow in opposite directions, so the wider edge differs.
        var longitudeDelta = Latitude < 0 ? longitudeDeltaBottom : longitudeDeltaTop;
        return (Longitude - longitudeDelta, Latitude - latitudeDelta, Longitude + longitudeDelta, Latitude + latitudeDelta);
    }
}
