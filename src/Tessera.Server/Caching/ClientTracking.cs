using Tessera.Server.Commands;

namespace Tessera.Server.Caching;

/// <summary>A client's CLIENT TRACKING mode (Redis's CLIENT_TRACKING_* flags).</summary>
[Flags]
internal enum TrackingFlags
{
    None = 0,

    /// <summary>Tracking is on.</summary>
    On = 1 << 0,

    /// <summary>BCAST: invalidations for every key under the client's prefixes, nothing remembered per read.</summary>
    Broadcast = 1 << 1,

    /// <summary>OPTIN: only reads after CLIENT CACHING yes are remembered.</summary>
    OptIn = 1 << 2,

    /// <summary>OPTOUT: reads are remembered unless CLIENT CACHING no came first.</summary>
    OptOut = 1 << 3,

    /// <summary>NOLOOP: no invalidation for keys the client changed itself.</summary>
    NoLoop = 1 << 4,

    /// <summary>CLIENT CACHING yes/no given for the next command (or transaction).</summary>
    Caching = 1 << 5,

    /// <summary>The client invalidations are redirected to has gone.</summary>
    BrokenRedirect = 1 << 6,
}

/// <summary>One client's tracking state: its mode, where its invalidations go, its BCAST prefixes.</summary>
internal sealed class ClientTracking
{
    public TrackingFlags Flags { get; set; }

    /// <summary>REDIRECT: the id of the client that receives the invalidations, or 0.</summary>
    public long Redirect { get; set; }

    /// <summary>BCAST prefixes, in byte order (CLIENT TRACKINGINFO lists them so).</summary>
    public SortedSet<byte[]> Prefixes { get; } = new(ByteOrder.Instance);

    /// <summary>
    /// Keys the client's own running command invalidated (null: everything, after a flush): sent after the
    /// command's reply, as Redis's tracking_pending_keys.
    /// </summary>
    public List<byte[]?> Pending { get; } = [];

    public bool IsOn => (Flags & TrackingFlags.On) != 0;
}
