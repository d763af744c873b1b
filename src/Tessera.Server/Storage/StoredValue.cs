namespace Tessera.Server.Storage;

/// <summary>
/// Base of every stored value that is not a plain string. Plain strings are packed with their key in one byte
/// array (<see cref="PackedString"/>); other values carry their key, so a table entry is one reference, a hash
/// and metadata: 16 bytes.
/// </summary>
internal abstract class StoredValue : IMemorySized
{
    /// <summary>The key this value is stored under.</summary>
    public abstract ReadOnlySpan<byte> Key { get; }

    /// <summary>Heap bytes of the value and its key.</summary>
    public abstract long MemoryBytes { get; }

    /// <summary>TYPE's name: string, list, set, zset, hash.</summary>
    public abstract string TypeName { get; }

    /// <summary>OBJECT ENCODING's name, as Redis 7.0 reports it for the same data.</summary>
    public abstract string EncodingName { get; }

    /// <summary>True for a collection without elements, which Redis never keeps: the key is deleted.</summary>
    public virtual bool IsEmpty => false;

    /// <summary>Stores the value under <paramref name="key"/> (when added, renamed or moved).</summary>
    public abstract void SetKey(ReadOnlySpan<byte> key);

    /// <summary>A deep copy stored under <paramref name="key"/> (COPY).</summary>
    public abstract StoredValue CopyAs(ReadOnlySpan<byte> key);
}

/// <summary>A stored value that keeps its key in an array of its own.</summary>
internal abstract class KeyedValue : StoredValue
{
    private byte[] _key = [];

    public override ReadOnlySpan<byte> Key => _key;

    /// <summary>Heap bytes of the key's array.</summary>
    protected long KeyBytes => MemorySize.Of(_key);

    public override void SetKey(ReadOnlySpan<byte> key) => _key = key.ToArray();
}
