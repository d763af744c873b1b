namespace Tessera.Server.Storage;

/// <summary>
/// A set of slot numbers (0..16383) with O(1) add, remove and uniform random pick; tracks which slots of a
/// database hold keys (or keys with a TTL) so random sampling never walks empty slots.
/// </summary>
internal sealed class SlotSet
{
    private readonly short[] _members = new short[Tessera.Core.Hashing.HashSlot.Count];
    private readonly short[] _positions = new short[Tessera.Core.Hashing.HashSlot.Count];

    public SlotSet() => Array.Fill(_positions, (short)-1);

    public int Count { get; private set; }

    public bool Contains(int slot) => _positions[slot] >= 0;

    public void Add(int slot)
    {
        if (_positions[slot] >= 0)
        {
            return;
        }
        _members[Count] = (short)slot;
        _positions[slot] = (short)Count;
        Count++;
    }

    public void Remove(int slot)
    {
        var position = _positions[slot];
        if (position < 0)
        {
            return;
        }
        Count--;
        var last = _members[Count];
        _members[position] = last;
        _positions[last] = position;
        _positions[slot] = -1;
    }

    /// <summary>A uniformly chosen member; the set must not be empty.</summary>
    public int Random(Random random) => _members[random.Next(Count)];

    public void Clear()
    {
        for (var i = 0; i < Count; i++)
        {
            _positions[_members[i]] = -1;
        }
        Count = 0;
    }
}
