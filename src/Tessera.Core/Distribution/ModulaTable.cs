namespace Tessera.Core.Distribution;

/// <summary>
/// twemproxy's modula distribution: the live servers in pool order, each repeated as many times as its weight;
/// a key goes to entry hash mod count.
/// </summary>
public sealed class ModulaTable
{
    private readonly int[] _entries;

    private ModulaTable(int[] entries) => _entries = entries;

    public static ModulaTable Build(IReadOnlyList<WeightedServer> live) =>
        new([.. live.SelectMany(server => Enumerable.Repeat(server.Index, server.Weight))]);

    /// <summary>The server index for <paramref name="hash"/>.</summary>
    public int Locate(uint hash) => _entries[(int)(hash % (uint)_entries.Length)];
}
