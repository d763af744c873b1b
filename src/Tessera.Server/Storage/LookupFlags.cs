namespace Tessera.Server.Storage;

/// <summary>How a lookup treats the key it finds, as Redis's LOOKUP_* flags.</summary>
[Flags]
internal enum LookupFlags
{
    /// <summary>A read: updates LRU/LFU and counts a keyspace hit or miss.</summary>
    Read = 0,

    /// <summary>Leaves LRU/LFU untouched (TYPE, TTL, OBJECT, EXISTS).</summary>
    NoTouch = 1 << 0,

    /// <summary>A lookup before a write: counts no hit or miss.</summary>
    Write = 1 << 1,

    /// <summary>Counts no hit or miss.</summary>
    NoStats = 1 << 2,
}
