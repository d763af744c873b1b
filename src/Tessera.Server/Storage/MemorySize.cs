namespace Tessera.Server.Storage;

/// <summary>
/// Bytes the managed heap spends on values, for <c>used_memory</c>, maxmemory and MEMORY USAGE. The figures are
/// the CLR's 64-bit object layouts, so the estimate follows real heap growth.
/// </summary>
internal static class MemorySize
{
    /// <summary>Object header + method table pointer.</summary>
    public const int ObjectHeader = 16;

    /// <summary>A byte array: header, length word, data rounded to 8.</summary>
    public static long Of(byte[] bytes) => ArrayOf(bytes.Length);

    /// <summary>An object header and a length word: what every array costs besides its elements.</summary>
    public const int ArrayHeader = ObjectHeader + 8;

    /// <summary>A byte[] of <paramref name="length"/> bytes.</summary>
    public static long ArrayOf(int length) => ObjectHeader + 8 + ((length + 7L) & ~7L);

    /// <summary>Any stored value.</summary>
    public static long Of(object value) => value switch
    {
        byte[] bytes => Of(bytes),
        IMemorySized sized => sized.MemoryBytes,
        _ => ObjectHeader,
    };
}

/// <summary>A value that knows its heap footprint (hashes, lists, sets, sorted sets).</summary>
internal interface IMemorySized
{
    long MemoryBytes { get; }
}
