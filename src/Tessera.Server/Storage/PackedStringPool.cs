namespace Tessera.Server.Storage;

/// <summary>
/// Recycles the arrays of deleted, expired, evicted and resized string values for new strings of the same
/// length, as an allocator's size classes would. Under eviction churn (a cache at maxmemory) new values take the
/// places of evicted ones instead of leaving the garbage collector behind, so resident memory stays close to
/// used_memory. Only call sites that hold no other reference to an array return it here. Bounded in bytes.
/// </summary>
internal sealed class PackedStringPool
{
    /// <summary>Arrays up to this length are recycled; longer ones are rare enough to leave to the GC.</summary>
    public const int MaxLength = 4096;

    private readonly Stack<byte[]>?[] _byLength = new Stack<byte[]>?[MaxLength + 1];

    /// <summary>Most bytes the pool holds.</summary>
    public long Capacity { get; set; } = 16L << 20;

    /// <summary>
    /// Bytes held. Like an allocator's free lists they are not in used_memory (evicting must lower used_memory);
    /// the capacity bounds what they add to resident memory.
    /// </summary>
    public long Bytes { get; private set; }

    /// <summary>An array of exactly <paramref name="length"/> bytes from the pool, or a new one. Contents are stale.</summary>
    public byte[] Rent(int length)
    {
        if (length <= MaxLength && _byLength[length] is { Count: > 0 } stack)
        {
            var array = stack.Pop();
            Bytes -= MemorySize.Of(array);
            return array;
        }
        return new byte[length];
    }

    /// <summary>Takes back an array nobody else references.</summary>
    public void Return(byte[] array)
    {
        var size = MemorySize.Of(array);
        if (array.Length > MaxLength || Bytes + size > Capacity)
        {
            return;
        }
        (_byLength[array.Length] ??= new Stack<byte[]>()).Push(array);
        Bytes += size;
    }

    /// <summary>Drops everything (FLUSHALL).</summary>
    public void Clear()
    {
        Array.Clear(_byLength);
        Bytes = 0;
    }
}
