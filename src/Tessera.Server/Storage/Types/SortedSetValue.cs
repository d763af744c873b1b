using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage.Types;

/// <summary>The member of a skip list node is the node's key in the member index.</summary>
internal readonly struct SkipNodeKey : IKeySelector<SkipNode>
{
    public static ReadOnlySpan<byte> KeyOf(SkipNode item) => item.Member;
}

/// <summary>Outcome of <see cref="SortedSetValue.Add"/>, as Redis's zsetAdd flags.</summary>
internal enum ZAddResult
{
    Added,
    Updated,

    /// <summary>Processed, but the score did not change.</summary>
    Same,

    /// <summary>Not processed: NX on an existing member, XX on a missing one, or GT/LT not met.</summary>
    Skipped,
    NotANumber,
}

/// <summary>ZADD's options.</summary>
[Flags]
internal enum ZAddFlags
{
    None = 0,
    Nx = 1,
    Xx = 2,
    Gt = 4,
    Lt = 8,
    Incr = 16,
}

/// <summary>
/// A sorted set: members ordered by score, ties by member bytes. Small sets are two parallel sorted arrays
/// (reported as Redis's listpack encoding); past <c>zset-max-listpack-entries</c> members or a member longer than
/// <c>zset-max-listpack-value</c> they become a <see cref="SkipList"/> with a member index (the skiplist encoding).
/// Positions are 0-based ranks in ascending order.
/// </summary>
internal sealed class SortedSetValue : KeyedValue, Commands.IRandomPositions
{
    private byte[][]? _members;
    private double[]? _scores;
    private int _count;
    private SkipList? _list;
    private OpenTable<SkipNode, SkipNodeKey>? _index;
    private long _memberBytes;

    /// <summary>A set small enough for the compact encoding, or a skip list when <paramref name="compact"/> is false.</summary>
    public SortedSetValue(bool compact = true)
    {
        if (compact)
        {
            _members = new byte[4][];
            _scores = new double[4];
        }
        else
        {
            _list = new SkipList();
            _index = new OpenTable<SkipNode, SkipNodeKey>();
        }
    }

    public long Count => _list?.Length ?? _count;

    public bool IsCompact => _list is null;

    public override bool IsEmpty => Count == 0;

    public override string TypeName => "zset";

    public override string EncodingName => _list is null ? "listpack" : "skiplist";

    public override long MemoryBytes => MemorySize.ObjectHeader + 48 + KeyBytes + _memberBytes
        + (_list is null ? (2 * MemorySize.ArrayHeader) + (16L * _members!.Length) : _list.MemoryBytes + _index!.ArrayBytes);

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (_list is null)
        {
            var i = IndexOfMember(member);
            score = i < 0 ? 0 : _scores![i];
            return i >= 0;
        }
        var slot = _index!.Find(member);
        score = slot < 0 ? 0 : _index[slot].Item!.Score;
        return slot >= 0;
    }

    /// <summary>
    /// Redis's zsetAdd: adds or updates <paramref name="member"/> under the NX/XX/GT/LT/INCR rules;
    /// <paramref name="newScore"/> is the resulting score. Converts to a skip list past the given limits.
    /// </summary>
    public ZAddResult Add(double score, ReadOnlySpan<byte> member, ZAddFlags flags, long maxEntries, long maxValue, out double newScore)
    {
        newScore = score;
        if (double.IsNaN(score))
        {
            return ZAddResult.NotANumber;
        }
        if (TryGetScore(member, out var current))
        {
            if ((flags & ZAddFlags.Nx) != 0)
            {
                return ZAddResult.Skipped;
            }
            if ((flags & ZAddFlags.Incr) != 0)
            {
                score += current;
                if (double.IsNaN(score))
                {
                    return ZAddResult.NotANumber;
                }
            }
            if (((flags & ZAddFlags.Lt) != 0 && score >= current) || ((flags & ZAddFlags.Gt) != 0 && score <= current))
            {
                return ZAddResult.Skipped;
            }
            newScore = score;
            if (score == current)
            {
                return ZAddResult.Same;
            }
            UpdateScore(member, score);
            return ZAddResult.Updated;
        }
        if ((flags & ZAddFlags.Xx) != 0)
        {
            return ZAddResult.Skipped;
        }
        if (_list is null && (_count + 1 > maxEntries || member.Length > maxValue))
        {
            ConvertToSkipList();
        }
        Insert(score, member.ToArray());
        return ZAddResult.Added;
    }

    /// <summary>Removes a member; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_list is null)
        {
            var i = IndexOfMember(member);
            if (i < 0)
            {
                return false;
            }
            RemoveAtRank(i);
            return true;
        }
        var slot = _index!.Find(member);
        if (slot < 0)
        {
            return false;
        }
        var node = _index[slot].Item!;
        _index.RemoveAt(slot);
        _index.TryShrink();
        _list.Delete(node.Score, node.Member);
        _memberBytes -= MemorySize.Of(node.Member);
        return true;
    }

    /// <summary>0-based rank of <paramref name="member"/> in ascending order, or -1.</summary>
    public long RankOf(ReadOnlySpan<byte> member)
    {
        if (_list is null)
        {
            return IndexOfMember(member);
        }
        var slot = _index!.Find(member);
        return slot < 0 ? -1 : _list.GetRank(_index[slot].Item!.Score, member) - 1;
    }

    /// <summary>A position is a rank.</summary>
    public long RandomPosition(Random random) => random.NextInt64(Count);

    public void AddPositions(List<long> positions)
    {
        for (var rank = 0L; rank < Count; rank++)
        {
            positions.Add(rank);
        }
    }

    /// <summary>The member and score at <paramref name="rank"/> (0-based, ascending).</summary>
    public (byte[] Member, double Score) At(long rank)
    {
        if (_list is null)
        {
            return (_members![rank], _scores![rank]);
        }
        var node = _list.GetByRank(rank + 1)!;
        return (node.Member, node.Score);
    }

    /// <summary>Elements from rank <paramref name="start"/> (inclusive) in order, ascending or descending.</summary>
    public RankWalk Walk(long start, bool reverse) => new(this, start, reverse);

    /// <summary>
    /// The elements from a rank towards either end, enumerated by a struct so ZRANGE and friends allocate nothing;
    /// LINQ sees it as a plain sequence.
    /// </summary>
    public struct RankWalk(SortedSetValue set, long start, bool reverse) : IEnumerable<(byte[] Member, double Score)>
    {
        private long _rank = start;
        private SkipNode? _node;
        private bool _started;

        public (byte[] Member, double Score) Current { get; private set; }

        public readonly RankWalk GetEnumerator() => this;

        public bool MoveNext()
        {
            if (set._list is null)
            {
                if (_started)
                {
                    _rank += reverse ? -1 : 1;
                }
                _started = true;
                if (_rank < 0 || _rank >= set._count)
                {
                    return false;
                }
                Current = (set._members![_rank], set._scores![_rank]);
                return true;
            }
            _node = _started ? (reverse ? _node?.Backward : _node?.Forward0) : _rank >= 0 && _rank < set.Count ? set._list.GetByRank(_rank + 1) : null;
            _started = true;
            if (_node is null)
            {
                return false;
            }
            Current = (_node.Member, _node.Score);
            return true;
        }

        readonly IEnumerator<(byte[] Member, double Score)> IEnumerable<(byte[] Member, double Score)>.GetEnumerator() => Iterate(this);

        readonly System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => Iterate(this);

        private static IEnumerator<(byte[] Member, double Score)> Iterate(RankWalk walk)
        {
            while (walk.MoveNext())
            {
                yield return walk.Current;
            }
        }
    }

    /// <summary>Rank of the first element with a score inside the lower bound of <paramref name="range"/> (Count if none).</summary>
    public long FirstRankAtOrAbove(ScoreRange range)
        => FirstRank(e => range.AboveMin(e.Score), n => range.AboveMin(n.Score));

    /// <summary>Rank just past the last element with a score inside the upper bound of <paramref name="range"/>.</summary>
    public long EndRankAtOrBelow(ScoreRange range)
        => FirstRank(e => !range.BelowMax(e.Score), n => !range.BelowMax(n.Score));

    /// <summary>
    /// The ranks [Start, End) a lexicographic range selects, walking from the low end (or the high end when
    /// <paramref name="reverse"/>). Lex ranges assume equal scores; for sets that break the assumption the compact
    /// encoding answers as Redis's listpack scan does (first match from the walking end, then while in range).
    /// </summary>
    public (long Start, long End) LexSpan(LexRange range, bool reverse)
    {
        if (_list is not null)
        {
            return (FirstRank(e => range.AboveMin(e.Member), n => range.AboveMin(n.Member)),
                FirstRank(e => !range.BelowMax(e.Member), n => !range.BelowMax(n.Member)));
        }
        var members = _members!;
        if (_count == 0 || !range.AboveMin(members[_count - 1]) || !range.BelowMax(members[0]))
        {
            return (0, 0);
        }
        if (!reverse)
        {
            var start = 0;
            while (!range.AboveMin(members[start]))
            {
                start++;
            }
            var end = start;
            while (end < _count && range.BelowMax(members[end]))
            {
                end++;
            }
            return (start, end);
        }
        var last = _count - 1;
        while (!range.BelowMax(members[last]))
        {
            last--;
        }
        var first = last + 1;
        while (first > 0 && range.AboveMin(members[first - 1]))
        {
            first--;
        }
        return (first, last + 1);
    }

    /// <summary>Removes the elements of ranks [<paramref name="start"/>, <paramref name="end"/>); returns them.</summary>
    public List<(byte[] Member, double Score)> RemoveRange(long start, long end)
    {
        var removed = Walk(start, reverse: false).Take((int)Math.Max(0, end - start)).ToList();
        foreach (var (member, _) in removed)
        {
            Remove(member);
        }
        return removed;
    }

    /// <summary>One ZSCAN step: a compact set returns everything at once; a skip list walks its member index.</summary>
    public ulong Scan(ulong cursor, long count, List<(byte[] Member, double Score)> output)
    {
        if (_list is null)
        {
            output.AddRange(Walk(0, reverse: false));
            return 0;
        }
        return _index!.Scan(cursor, count, ref output, static (t, i, ref o) => o.Add((t[i].Item!.Member, t[i].Item!.Score)), static o => o.Count);
    }

    /// <summary>
    /// Redis's zsetConvertToListpackIfNeeded, for results of ZUNIONSTORE and friends: back to the compact encoding
    /// when it fits.
    /// </summary>
    public void CompactIfSmall(long maxEntries, long maxValue)
    {
        if (_list is null || Count > maxEntries || Walk(0, false).Any(e => e.Member.Length > maxValue))
        {
            return;
        }
        var elements = Walk(0, reverse: false).ToList();
        _list = null;
        _index = null;
        _members = new byte[Math.Max(4, elements.Count)][];
        _scores = new double[_members.Length];
        _count = 0;
        foreach (var (member, score) in elements)
        {
            _members[_count] = member;
            _scores[_count++] = AsListpackStores(score);
        }
    }

    public override StoredValue CopyAs(ReadOnlySpan<byte> key)
    {
        var copy = new SortedSetValue(_list is null);
        copy.SetKey(key);
        foreach (var (member, score) in Walk(0, reverse: false))
        {
            copy.Insert(score, member);
        }
        return copy;
    }

    /// <summary>Appends or inserts an element known to be absent, keeping order.</summary>
    internal void Insert(double score, byte[] member)
    {
        _memberBytes += MemorySize.Of(member);
        if (_list is not null)
        {
            _index!.Add(_list.Insert(score, member));
            return;
        }
        var at = (int)CompactFirstRank(e => e.Score > score || (e.Score == score && e.Member.AsSpan().SequenceCompareTo(member) > 0));
        if (_count == _members!.Length)
        {
            Array.Resize(ref _members, _count * 2);
            Array.Resize(ref _scores, _count * 2);
        }
        Array.Copy(_members, at, _members, at + 1, _count - at);
        Array.Copy(_scores!, at, _scores!, at + 1, _count - at);
        _members[at] = member;
        _scores![at] = AsListpackStores(score);
        _count++;
    }

    /// <summary>
    /// A score as Redis's listpack keeps it: written as text that drops the sign of zero, so -0 reads back as 0
    /// (the skip list keeps -0).
    /// </summary>
    private static double AsListpackStores(double score) => score == 0 ? 0 : score;

    private void UpdateScore(ReadOnlySpan<byte> member, double score)
    {
        if (_list is null)
        {
            var i = IndexOfMember(member);
            var stored = _members![i];
            RemoveAtRank(i);
            Insert(score, stored);
            return;
        }
        var slot = _index!.Find(member);
        _index[slot].Item = _list.UpdateScore(_index[slot].Item!, score);
    }

    private int IndexOfMember(ReadOnlySpan<byte> member)
    {
        for (var i = 0; i < _count; i++)
        {
            if (_members![i].AsSpan().SequenceEqual(member))
            {
                return i;
            }
        }
        return -1;
    }

    private void RemoveAtRank(long rank)
    {
        var i = (int)rank;
        _memberBytes -= MemorySize.Of(_members![i]);
        Array.Copy(_members, i + 1, _members, i, _count - i - 1);
        Array.Copy(_scores!, i + 1, _scores!, i, _count - i - 1);
        _count--;
        _members[_count] = null!;
    }

    /// <summary>
    /// The first rank whose element satisfies a predicate that is false then true along the order (binary search
    /// in the compact encoding, a skip list descent otherwise); Count when none does.
    /// </summary>
    private long FirstRank(Func<(byte[] Member, double Score), bool> compact, Func<SkipNode, bool> node)
    {
        if (_list is null)
        {
            return CompactFirstRank(compact);
        }
        var first = _list.FirstWhere(node);
        return first is null ? Count : _list.GetRank(first.Score, first.Member) - 1;
    }

    private long CompactFirstRank(Func<(byte[] Member, double Score), bool> predicate)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (predicate((_members![mid], _scores![mid])))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /// <summary>Switches to the skip list encoding (done by ZADD past the limits, and by SORT as Redis's does).</summary>
    public void ConvertToSkipList()
    {
        if (_list is not null)
        {
            return;
        }
        var list = new SkipList();
        var index = new OpenTable<SkipNode, SkipNodeKey>();
        index.EnsureCapacity(_count + 1);
        for (var i = 0; i < _count; i++)
        {
            index.Add(list.Insert(_scores![i], _members![i]));
        }
        _list = list;
        _index = index;
        _members = null;
        _scores = null;
        _count = 0;
    }
}
