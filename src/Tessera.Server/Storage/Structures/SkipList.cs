namespace Tessera.Server.Storage.Structures;

/// <summary>A node of <see cref="SkipList"/>: member, score, and its forward links with spans.</summary>
internal sealed class SkipNode
{
    /// <summary>One upper level: the next node at that level and how many nodes the link skips.</summary>
    internal struct Level
    {
        public SkipNode? Forward;
        public long Span;
    }

    public SkipNode(byte[] member, double score, int levels)
    {
        Member = member;
        Score = score;
        Upper = levels > 1 ? new Level[levels - 1] : null;
    }

    public byte[] Member { get; set; }

    public double Score { get; set; }

    public SkipNode? Backward { get; set; }

    /// <summary>The level-0 link (its span is always 1), kept inline: three nodes in four have no other.</summary>
    public SkipNode? Forward0 { get; set; }

    /// <summary>Levels 1 and up, or null.</summary>
    public Level[]? Upper { get; }

    public int LevelCount => 1 + (Upper?.Length ?? 0);

    /// <summary>Heap bytes of the node and its level array (the member is counted apart).</summary>
    public long MemoryBytes => MemorySize.ObjectHeader + 40 + (Upper is null ? 0 : MemorySize.ArrayHeader + (16L * Upper.Length));

    public SkipNode? Forward(int level) => level == 0 ? Forward0 : Upper![level - 1].Forward;

    public long Span(int level) => level == 0 ? 1 : Upper![level - 1].Span;

    public void SetForward(int level, SkipNode? node)
    {
        if (level == 0)
        {
            Forward0 = node;
        }
        else
        {
            Upper![level - 1].Forward = node;
        }
    }

    public void SetSpan(int level, long span)
    {
        if (level > 0)
        {
            Upper![level - 1].Span = span;
        }
    }
}

/// <summary>
/// Redis's skip list for sorted sets (probability 1/4, at most 32 levels, spans on every link): elements ordered
/// by score, ties by member bytes; insert, delete, rank and rank lookup in O(log n). Level 0 links are inline in
/// the node, so most nodes carry no level array at all.
/// </summary>
internal sealed class SkipList
{
    public const int MaxLevel = 32;

    private readonly SkipNode _header = new([], 0, MaxLevel);
    private readonly SkipNode[] _update = new SkipNode[MaxLevel];
    private readonly long[] _rank = new long[MaxLevel];
    private int _level = 1;

    /// <summary>Number of elements.</summary>
    public long Length { get; private set; }

    /// <summary>The first element, or null.</summary>
    public SkipNode? First => _header.Forward0;

    /// <summary>The last element, or null.</summary>
    public SkipNode? Last { get; private set; }

    /// <summary>Heap bytes of all nodes (members excluded).</summary>
    public long MemoryBytes { get; private set; }

    /// <summary>Orders (score, member) pairs as sorted sets do.</summary>
    public static int Compare(double score, ReadOnlySpan<byte> member, SkipNode node)
    {
        var byScore = score.CompareTo(node.Score);
        return byScore != 0 ? byScore : member.SequenceCompareTo(node.Member);
    }

    /// <summary>Inserts an element that is not present; returns its node.</summary>
    public SkipNode Insert(double score, byte[] member)
    {
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            _rank[i] = i == _level - 1 ? 0 : _rank[i + 1];
            while (x.Forward(i) is { } next && Compare(score, member, next) > 0)
            {
                _rank[i] += x.Span(i);
                x = next;
            }
            _update[i] = x;
        }
        var level = RandomLevel();
        if (level > _level)
        {
            for (var i = _level; i < level; i++)
            {
                _rank[i] = 0;
                _update[i] = _header;
                _header.SetSpan(i, Length);
            }
            _level = level;
        }
        var node = new SkipNode(member, score, level);
        for (var i = 0; i < level; i++)
        {
            node.SetForward(i, _update[i].Forward(i));
            _update[i].SetForward(i, node);
            node.SetSpan(i, _update[i].Span(i) - (_rank[0] - _rank[i]));
            _update[i].SetSpan(i, _rank[0] - _rank[i] + 1);
        }
        for (var i = level; i < _level; i++)
        {
            _update[i].SetSpan(i, _update[i].Span(i) + 1);
        }
        node.Backward = _update[0] == _header ? null : _update[0];
        if (node.Forward0 is { } after)
        {
            after.Backward = node;
        }
        else
        {
            Last = node;
        }
        Length++;
        MemoryBytes += node.MemoryBytes;
        return node;
    }

    /// <summary>Removes the element (score, member); false when absent.</summary>
    public bool Delete(double score, ReadOnlySpan<byte> member)
    {
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            while (x.Forward(i) is { } next && Compare(score, member, next) > 0)
            {
                x = next;
            }
            _update[i] = x;
        }
        var target = x.Forward0;
        if (target is null || target.Score != score || !target.Member.AsSpan().SequenceEqual(member))
        {
            return false;
        }
        DeleteNode(target);
        return true;
    }

    /// <summary>
    /// Moves <paramref name="node"/> to <paramref name="newScore"/>: in place when the order does not change
    /// (Redis's zslUpdateScore), otherwise by delete and insert. Returns the node now holding the element.
    /// </summary>
    public SkipNode UpdateScore(SkipNode node, double newScore)
    {
        var prev = node.Backward;
        var next = node.Forward0;
        if ((prev is null || prev.Score < newScore || (prev.Score == newScore && prev.Member.AsSpan().SequenceCompareTo(node.Member) < 0))
            && (next is null || next.Score > newScore || (next.Score == newScore && next.Member.AsSpan().SequenceCompareTo(node.Member) > 0)))
        {
            node.Score = newScore;
            return node;
        }
        var member = node.Member;
        Delete(node.Score, member);
        return Insert(newScore, member);
    }

    /// <summary>1-based rank of (score, member), or 0 when absent.</summary>
    public long GetRank(double score, ReadOnlySpan<byte> member)
    {
        long rank = 0;
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            while (x.Forward(i) is { } next && Compare(score, member, next) >= 0)
            {
                rank += x.Span(i);
                x = next;
            }
            if (x != _header && x.Score == score && x.Member.AsSpan().SequenceEqual(member))
            {
                return rank;
            }
        }
        return 0;
    }

    /// <summary>The element of 1-based <paramref name="rank"/>, or null.</summary>
    public SkipNode? GetByRank(long rank)
    {
        long traversed = 0;
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            while (x.Forward(i) is { } next && traversed + x.Span(i) <= rank)
            {
                traversed += x.Span(i);
                x = next;
            }
            if (traversed == rank)
            {
                return x == _header ? null : x;
            }
        }
        return null;
    }

    /// <summary>The first element for which <paramref name="atOrAfterStart"/> holds (the predicate must be monotonic), or null.</summary>
    public SkipNode? FirstWhere(Func<SkipNode, bool> atOrAfterStart)
    {
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            while (x.Forward(i) is { } next && !atOrAfterStart(next))
            {
                x = next;
            }
        }
        return x.Forward0;
    }

    /// <summary>The last element for which <paramref name="atOrBeforeEnd"/> holds (true on a prefix of the list), or null.</summary>
    public SkipNode? LastWhere(Func<SkipNode, bool> atOrBeforeEnd)
    {
        var x = _header;
        for (var i = _level - 1; i >= 0; i--)
        {
            while (x.Forward(i) is { } next && atOrBeforeEnd(next))
            {
                x = next;
            }
        }
        return x == _header ? null : x;
    }

    /// <summary>Removes <paramref name="node"/>, found again through the update path.</summary>
    public void Remove(SkipNode node) => Delete(node.Score, node.Member);

    private void DeleteNode(SkipNode x)
    {
        for (var i = 0; i < _level; i++)
        {
            if (_update[i].Forward(i) == x)
            {
                _update[i].SetSpan(i, _update[i].Span(i) + x.Span(i) - 1);
                _update[i].SetForward(i, x.Forward(i));
            }
            else
            {
                _update[i].SetSpan(i, _update[i].Span(i) - 1);
            }
        }
        if (x.Forward0 is { } after)
        {
            after.Backward = x.Backward;
        }
        else
        {
            Last = x.Backward;
        }
        while (_level > 1 && _header.Forward(_level - 1) is null)
        {
            _level--;
        }
        Length--;
        MemoryBytes -= x.MemoryBytes;
    }

    private static int RandomLevel()
    {
        var level = 1;
        while ((Random.Shared.Next() & 0xFFFF) < 0xFFFF / 4 && level < MaxLevel)
        {
            level++;
        }
        return level;
    }
}
