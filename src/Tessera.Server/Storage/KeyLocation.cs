namespace Tessera.Server.Storage;

/// <summary>A key's hash slot and its hash within the slot's table, computed once per command.</summary>
internal readonly record struct KeyLocation(int Slot, uint Hash);
