namespace Tessera.Core.Hashing;

/// <summary>
/// Redis Cluster's key-to-slot function: CRC16 of the key modulo 16384, hashing only the part between the first '{'
/// and the first '}' after it when that part is non-empty (a hash tag). Also the internal shard function of a node's
/// keyspace, so one function serves shards, cluster slots and migration.
/// </summary>
public static class HashSlot
{
    /// <summary>Number of hash slots in a cluster.</summary>
    public const int Count = 16384;

    /// <summary>The slot of <paramref name="key"/>.</summary>
    public static int Of(ReadOnlySpan<byte> key) => Crc16.Compute(HashedPart(key)) & (Count - 1);

    /// <summary>The bytes that decide the slot: the hash tag when there is a non-empty one, else the whole key.</summary>
    public static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open < 0)
        {
            return key;
        }
        var close = key[(open + 1)..].IndexOf((byte)'}');
        return close <= 0 ? key : key.Slice(open + 1, close);
    }

    /// <summary>
    /// A slot or range as CLUSTER NODES writes it ("5" or "0-5460"): its first and last slot. Throws
    /// <see cref="FormatException"/> for anything else, slots past 16383 included.
    /// </summary>
    public static (int Start, int End) ParseRange(string text)
    {
        var dash = text.IndexOf('-');
        var start = int.Parse(dash < 0 ? text : text[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        var end = dash < 0 ? start : int.Parse(text[(dash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        return start <= end && end < Count ? (start, end) : throw new FormatException($"'{text}' is not a slot range");
    }

    /// <summary>
    /// An open slot as CLUSTER NODES marks it on a node's own line: "[slot->-id]" (migrating to node id) or
    /// "[slot-&lt;-id]" (importing from node id). Throws <see cref="FormatException"/> for anything else.
    /// </summary>
    public static (int Slot, bool Migrating, string NodeId) ParseOpenSlot(string mark)
    {
        var migrating = mark.Contains("->-", StringComparison.Ordinal);
        var parts = mark.Length > 2 && mark[0] == '[' && mark[^1] == ']' ? mark[1..^1].Split(migrating ? "->-" : "-<-") : [];
        if (parts.Length != 2 || parts[1].Length == 0
            || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var slot) || slot >= Count)
        {
            throw new FormatException($"'{mark}' is not an open slot mark");
        }
        return (slot, migrating, parts[1]);
    }
}
