using Tessera.Resp;
using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage.Types;

/// <summary>A set member stored as is: its own key.</summary>
internal readonly struct MemberKey : IKeySelector<byte[]>
{
    public static ReadOnlySpan<byte> KeyOf(byte[] item) => item;
}

/// <summary>
/// A set. While every member is a canonical 64-bit integer and there are at most <c>set-max-intset-entries</c>
/// of them it is a sorted array of longs (Redis's intset, iterated in ascending order); otherwise, for good, an
/// <see cref="OpenTable{T, TKey}"/> of members (the hashtable encoding).
/// </summary>
internal sealed class SetValue : KeyedValue, Commands.IRandomPositions
{
    private long[]? _ints;
    private int _intCount;
    private OpenTable<byte[], MemberKey>? _table;
    private long _tableBytes;

    private SetValue(bool integers)
    {
        if (integers)
        {
            _ints = new long[4];
        }
        else
        {
            _table = new OpenTable<byte[], MemberKey>();
        }
    }

    public long Count => _ints is not null ? _intCount : _table!.Count;

    public override bool IsEmpty => Count == 0;

    public override string TypeName => "set";

    public override string EncodingName => _ints is not null ? "intset" : "hashtable";

    public override long MemoryBytes => MemorySize.ObjectHeader + 32 + KeyBytes
        + (_ints is not null ? MemorySize.ArrayHeader + (8L * _ints.Length) : _table!.ArrayBytes + _tableBytes);

    /// <summary>An empty set encoded for its first member, as Redis's setTypeCreate.</summary>
    public static SetValue CreateFor(ReadOnlySpan<byte> firstMember) => new(IsInteger(firstMember, out _));

    /// <summary>An empty set that starts as an intset (the results of SINTERSTORE, SUNIONSTORE, SDIFFSTORE).</summary>
    public static SetValue CreateIntset() => new(integers: true);

    public bool Contains(ReadOnlySpan<byte> member)
    {
        if (_ints is not null)
        {
            return IsInteger(member, out var value) && Array.BinarySearch(_ints, 0, _intCount, value) >= 0;
        }
        return _table!.Find(member) >= 0;
    }

    /// <summary>Adds a member; true when it was new. Converts past <paramref name="maxIntset"/> or on a non-integer.</summary>
    public bool Add(ReadOnlySpan<byte> member, long maxIntset)
    {
        if (_ints is not null)
        {
            if (IsInteger(member, out var value))
            {
                var index = Array.BinarySearch(_ints, 0, _intCount, value);
                if (index >= 0)
                {
                    return false;
                }
                index = ~index;
                if (_intCount == _ints.Length)
                {
                    Array.Resize(ref _ints, _ints.Length * 2);
                }
                Array.Copy(_ints, index, _ints, index + 1, _intCount - index);
                _ints[index] = value;
                _intCount++;
                if (_intCount > Math.Min(maxIntset, 1 << 30))
                {
                    ConvertToTable();
                }
                return true;
            }
            ConvertToTable();
        }
        if (_table!.Find(member) >= 0)
        {
            return false;
        }
        var copy = member.ToArray();
        _table.Add(copy);
        _tableBytes += MemorySize.Of(copy);
        return true;
    }

    /// <summary>Removes a member; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_ints is not null)
        {
            if (!IsInteger(member, out var value))
            {
                return false;
            }
            var index = Array.BinarySearch(_ints, 0, _intCount, value);
            if (index < 0)
            {
                return false;
            }
            Array.Copy(_ints, index + 1, _ints, index, _intCount - index - 1);
            _intCount--;
            return true;
        }
        var i = _table!.Find(member);
        if (i < 0)
        {
            return false;
        }
        _tableBytes -= MemorySize.Of(_table[i].Item!);
        _table.RemoveAt(i);
        _table.TryShrink();
        return true;
    }

    /// <summary>Every member in encoding order (ascending for an intset), as new arrays.</summary>
    public List<byte[]> Members()
    {
        var members = new List<byte[]>((int)Math.Min(Count, 1 << 20));
        if (_ints is not null)
        {
            Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
            for (var i = 0; i < _intCount; i++)
            {
                members.Add(text[..RedisInteger.Format(_ints[i], text)].ToArray());
            }
            return members;
        }
        members.AddRange(_table!.Items());
        return members;
    }

    /// <summary>A random member (SRANDMEMBER, SPOP); the set must not be empty.</summary>
    public byte[] Random(Random random) => MemberAt(RandomPosition(random));

    /// <summary>A position is an index into the intset, or a slot of the hashtable.</summary>
    public long RandomPosition(Random random) => _ints is not null ? random.Next(_intCount) : _table!.RandomIndex(random);

    public void AddPositions(List<long> positions)
    {
        if (_ints is null)
        {
            _table!.AddOccupied(positions);
            return;
        }
        for (var i = 0; i < _intCount; i++)
        {
            positions.Add(i);
        }
    }

    /// <summary>The member at a position from <see cref="RandomPosition"/> or <see cref="AddPositions"/>.</summary>
    public byte[] MemberAt(long position)
    {
        if (_ints is null)
        {
            return _table![(int)position].Item!;
        }
        Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
        return text[..RedisInteger.Format(_ints[position], text)].ToArray();
    }

    /// <summary>Writes the member at a position as a bulk string, without a copy for intset members.</summary>
    public void WriteMemberAt(RespWriter w, long position)
    {
        if (_ints is not null)
        {
            w.WriteBulk(_ints[position]);
        }
        else
        {
            w.WriteBulk(_table![(int)position].Item!);
        }
    }

    /// <summary>One SSCAN step: an intset returns everything at once; a hashtable walks buckets.</summary>
    public ulong Scan(ulong cursor, long count, List<byte[]> output)
    {
        if (_ints is not null)
        {
            output.AddRange(Members());
            return 0;
        }
        return _table!.Scan(cursor, count, ref output, static (t, i, ref o) => o.Add(t[i].Item!), static o => o.Count);
    }

    public override StoredValue CopyAs(ReadOnlySpan<byte> key)
    {
        var copy = new SetValue(_ints is not null);
        copy.SetKey(key);
        if (_ints is not null)
        {
            copy._ints = (long[])_ints.Clone();
            copy._intCount = _intCount;
            return copy;
        }
        copy._table!.EnsureCapacity(_table!.Count);
        foreach (var member in _table.Items())
        {
            copy._table.Add(member);
        }
        copy._tableBytes = _tableBytes;
        return copy;
    }

    /// <summary>Redis's isSdsRepresentableAsLongLong: the strict integer text rules.</summary>
    private static bool IsInteger(ReadOnlySpan<byte> member, out long value) => RedisInteger.TryParse(member, out value);

    private void ConvertToTable()
    {
        var table = new OpenTable<byte[], MemberKey>();
        table.EnsureCapacity(_intCount + 1);
        long bytes = 0;
        foreach (var member in Members())
        {
            table.Add(member);
            bytes += MemorySize.Of(member);
        }
        _table = table;
        _tableBytes = bytes;
        _ints = null;
        _intCount = 0;
    }
}
