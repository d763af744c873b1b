namespace Tessera.Core.Distribution;

/// <summary>A live backend as a distribution sees it: its position in the pool, its ketama name, its weight.</summary>
public readonly record struct WeightedServer(int Index, string Name, int Weight);
