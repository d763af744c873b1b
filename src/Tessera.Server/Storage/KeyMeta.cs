namespace Tessera.Server.Storage;

/// <summary>How a string value is encoded, as OBJECT ENCODING reports it.</summary>
internal enum StringEncoding : uint
{
    Raw = 0,
    Embstr = 1,
    Int = 2,
}

/// <summary>
/// The 32 bits of per-key metadata: the low 24 hold the LRU clock (seconds) or, under an LFU policy, 16 bits of
/// minutes and an 8-bit logarithmic counter, exactly as Redis packs its <c>robj.lru</c>; bits 24-25 hold the
/// string encoding.
/// </summary>
internal static class KeyMeta
{
    /// <summary>Largest LRU clock value (24 bits).</summary>
    public const uint LruClockMax = (1 << 24) - 1;

    /// <summary>Counter of a new key under LFU (Redis's LFU_INIT_VAL).</summary>
    public const uint LfuInitialCounter = 5;

    private const uint AccessMask = LruClockMax;
    private const int EncodingShift = 24;

    /// <summary>The LRU clock for <paramref name="unixMs"/>: seconds, wrapped at 24 bits.</summary>
    public static uint LruClock(long unixMs) => (uint)(unixMs / 1000) & LruClockMax;

    /// <summary>Minutes, wrapped at 16 bits, for LFU decay.</summary>
    public static uint LfuMinutes(long unixMs) => (uint)(unixMs / 60000) & 0xFFFF;

    public static uint Access(uint meta) => meta & AccessMask;

    public static uint WithAccess(uint meta, uint access) => (meta & ~AccessMask) | (access & AccessMask);

    public static StringEncoding Encoding(uint meta) => (StringEncoding)((meta >> EncodingShift) & 3);

    public static uint WithEncoding(uint meta, StringEncoding encoding) => (meta & ~(3u << EncodingShift)) | ((uint)encoding << EncodingShift);

    /// <summary>Idle milliseconds of a key, Redis's estimateObjectIdleTime.</summary>
    public static long IdleMilliseconds(uint meta, uint clock)
    {
        var lru = Access(meta);
        return clock >= lru ? (clock - lru) * 1000L : (clock + (LruClockMax - lru)) * 1000L;
    }

    /// <summary>The LFU counter after decay (Redis's LFUDecrAndReturn).</summary>
    public static uint LfuDecayed(uint meta, long unixMs, long decayMinutes)
    {
        var access = Access(meta);
        var lastMinutes = access >> 8;
        var counter = access & 255;
        var now = LfuMinutes(unixMs);
        var elapsed = now >= lastMinutes ? now - lastMinutes : 65535 - lastMinutes + now;
        var periods = decayMinutes > 0 ? elapsed / (ulong)decayMinutes : 0;
        return periods == 0 ? counter : periods > counter ? 0 : counter - (uint)periods;
    }

    /// <summary>Logarithmic increment (Redis's LFULogIncr): the higher the counter, the less likely it grows.</summary>
    public static uint LfuIncrement(uint counter, long logFactor, Random random)
    {
        if (counter == 255)
        {
            return 255;
        }
        var baseValue = Math.Max(0.0, counter - (double)LfuInitialCounter);
        var p = 1.0 / ((baseValue * logFactor) + 1);
        return random.NextDouble() < p ? counter + 1 : counter;
    }
}
