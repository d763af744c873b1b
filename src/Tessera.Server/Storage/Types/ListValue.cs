using Tessera.Server.Storage.Structures;

namespace Tessera.Server.Storage.Types;

/// <summary>
/// A list: Redis's quicklist, a doubly linked chain of <see cref="PackedList"/> nodes. A node takes entries
/// until it reaches <c>list-max-listpack-size</c> (negative: 4 KB to 64 KB of bytes; positive: that many entries,
/// within 8 KB), so pushes and pops at either end are O(1) and elements cost a few bytes each.
/// Indices are 0-based from the head; negative indices count from the tail.
/// </summary>
internal sealed class ListValue : KeyedValue
{
    private const int SizeSafetyLimit = 8192;
    private const int EntryOverhead = 11;
    private static readonly int[] SizeLimits = [4096, 8192, 16384, 32768, 65536];

    private readonly int _fill;
    private Node? _head;
    private Node? _tail;
    private long _nodesBytes;

    /// <summary>An empty list whose nodes follow <paramref name="fill"/> (list-max-listpack-size at creation).</summary>
    public ListValue(long fill) => _fill = (int)Math.Clamp(fill, -5, int.MaxValue);

    private sealed class Node
    {
        /// <summary>The node's elements; a struct, so use it in place (ref locals), never through a copy.</summary>
        public PackedList Entries = new(64);

        public Node? Previous { get; set; }

        public Node? Next { get; set; }
    }

    public long Count { get; private set; }

    public override bool IsEmpty => Count == 0;

    public override string TypeName => "list";

    public override string EncodingName => "quicklist";

    public override long MemoryBytes => MemorySize.ObjectHeader + 40 + KeyBytes + _nodesBytes;

    /// <summary>Adds at the head (or the tail).</summary>
    public void Push(ReadOnlySpan<byte> value, bool head)
    {
        var node = head ? _head : _tail;
        if (node is null || !CanTake(node, value.Length))
        {
            if (node is not null)
            {
                // The end node is full: it only shrinks from now on, so its spare room is given back.
                var untrimmed = node.Entries.MemoryBytes;
                node.Entries.TrimExcess();
                _nodesBytes += node.Entries.MemoryBytes - untrimmed;
            }
            node = new Node();
            if (head)
            {
                LinkBefore(_head, node);
            }
            else
            {
                LinkAfter(_tail, node);
            }
        }
        ref var entries = ref node.Entries;
        var before = entries.MemoryBytes;
        entries.InsertAt(head ? entries.First : entries.End, value);
        _nodesBytes += entries.MemoryBytes - before;
        Count++;
    }

    /// <summary>The head (or tail) element, valid until the list changes; the list must not be empty.</summary>
    public ReadOnlySpan<byte> Peek(bool head)
    {
        var node = head ? _head! : _tail!;
        return node.Entries.At(head ? node.Entries.First : node.Entries.Last);
    }

    /// <summary>Removes <paramref name="count"/> elements (at most <see cref="Count"/>) from the head (or tail).</summary>
    public void Drop(bool head, long count = 1)
    {
        while (count > 0)
        {
            var node = head ? _head! : _tail!;
            ref var entries = ref node.Entries;
            if (count >= entries.Count)
            {
                count -= entries.Count;
                Count -= entries.Count;
                Unlink(node);
                continue;
            }
            var n = (int)count;
            var before = entries.MemoryBytes;
            entries.RemoveAt(head ? entries.First : entries.PositionOf(entries.Count - n), n);
            _nodesBytes += entries.MemoryBytes - before;
            Count -= n;
            count = 0;
        }
    }

    /// <summary>Removes and returns the head (or tail) element; the list must not be empty.</summary>
    public byte[] Pop(bool head)
    {
        var value = Peek(head).ToArray();
        Drop(head);
        return value;
    }

    /// <summary>The element at <paramref name="index"/>, valid until the list changes; false when out of range.</summary>
    public bool TryGet(long index, out ReadOnlySpan<byte> value)
    {
        if (!TryLocate(index, out var node, out var position))
        {
            value = default;
            return false;
        }
        value = node.Entries.At(position);
        return true;
    }

    /// <summary>Replaces the element at <paramref name="index"/>; false when out of range.</summary>
    public bool Set(long index, ReadOnlySpan<byte> value)
    {
        if (!TryLocate(index, out var node, out var position))
        {
            return false;
        }
        var before = node.Entries.MemoryBytes;
        node.Entries.Replace(position, value);
        _nodesBytes += node.Entries.MemoryBytes - before;
        SplitIfOversized(node);
        return true;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with each element from index <paramref name="start"/> (0 ≤ start &lt; Count)
    /// towards the tail, or towards the head when <paramref name="backwards"/>, until it returns false.
    /// </summary>
    public void Visit<TState>(long start, bool backwards, ref TState state, ElementVisitor<TState> visit)
    {
        if (!TryLocate(start, out var node, out var position))
        {
            return;
        }
        var index = start;
        while (true)
        {
            ref var entries = ref node.Entries;
            if (!visit(entries.At(position), index, ref state))
            {
                return;
            }
            if (backwards)
            {
                index--;
                if (position != entries.First)
                {
                    position = entries.Previous(position);
                    continue;
                }
                node = node.Previous;
                if (node is null)
                {
                    return;
                }
                position = node.Entries.Last;
            }
            else
            {
                index++;
                position = entries.Next(position);
                if (position != entries.End)
                {
                    continue;
                }
                node = node.Next;
                if (node is null)
                {
                    return;
                }
                position = node.Entries.First;
            }
        }
    }

    /// <summary>Inserts before or after the first occurrence of <paramref name="pivot"/>; false when it is absent.</summary>
    public bool Insert(ReadOnlySpan<byte> pivot, ReadOnlySpan<byte> value, bool after)
    {
        for (var node = _head; node is not null; node = node.Next)
        {
            ref var entries = ref node.Entries;
            for (var p = entries.First; p < entries.End; p = entries.Next(p))
            {
                if (!entries.At(p).SequenceEqual(pivot))
                {
                    continue;
                }
                var before = entries.MemoryBytes;
                entries.InsertAt(after ? entries.Next(p) : p, value);
                _nodesBytes += entries.MemoryBytes - before;
                Count++;
                SplitIfOversized(node);
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// LREM: removes occurrences of <paramref name="value"/>, at most <paramref name="limit"/> (0 means all) from
    /// the head, or from the tail when <paramref name="fromTail"/>; returns how many.
    /// </summary>
    public long Remove(ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        long removed = 0;
        var node = fromTail ? _tail : _head;
        while (node is not null && (limit == 0 || removed < limit))
        {
            ref var entries = ref node.Entries;
            var before = entries.MemoryBytes;
            var count = entries.Count;
            if (fromTail)
            {
                for (var p = count == 0 ? -1 : entries.Last; p >= 0 && (limit == 0 || removed < limit);)
                {
                    // Entries before p keep their offsets when p is removed.
                    var previous = p == entries.First ? -1 : entries.Previous(p);
                    if (entries.At(p).SequenceEqual(value))
                    {
                        entries.RemoveAt(p);
                        removed++;
                    }
                    p = previous;
                }
            }
            else
            {
                for (var p = entries.First; p < entries.End && (limit == 0 || removed < limit);)
                {
                    if (entries.At(p).SequenceEqual(value))
                    {
                        entries.RemoveAt(p);
                        removed++;
                    }
                    else
                    {
                        p = entries.Next(p);
                    }
                }
            }
            _nodesBytes += entries.MemoryBytes - before;
            Count -= count - entries.Count;
            var next = fromTail ? node.Previous : node.Next;
            if (entries.Count == 0)
            {
                Unlink(node);
            }
            node = next;
        }
        return removed;
    }

    /// <summary>Keeps only the elements of indices [<paramref name="start"/>, <paramref name="end"/>] (within bounds; none when start &gt; end).</summary>
    public void Trim(long start, long end)
    {
        if (start > end)
        {
            Drop(head: true, Count);
            return;
        }
        Drop(head: false, Count - 1 - end);
        Drop(head: true, start);
    }

    public override StoredValue CopyAs(ReadOnlySpan<byte> key)
    {
        var copy = new ListValue(_fill);
        copy.SetKey(key);
        if (Count > 0)
        {
            Visit(0, backwards: false, ref copy, static (element, _, ref target) =>
            {
                target.Push(element, head: false);
                return true;
            });
        }
        return copy;
    }

    private bool CanTake(Node node, int length)
    {
        var size = node.Entries.ByteLength + length + EntryOverhead;
        if (_fill < 0)
        {
            return size <= SizeLimits[-_fill - 1];
        }
        return size <= SizeSafetyLimit && node.Entries.Count < _fill;
    }

    /// <summary>Splits a node that an insertion in the middle pushed over the limits.</summary>
    private void SplitIfOversized(Node node)
    {
        ref var entries = ref node.Entries;
        if (entries.Count < 2 || CanTake(node, 0))
        {
            return;
        }
        var half = entries.Count / 2;
        var moved = entries.Count - half;
        var from = entries.PositionOf(half);
        var second = new Node();
        for (var p = from; p < entries.End; p = entries.Next(p))
        {
            second.Entries.Append(entries.At(p));
        }
        var before = entries.MemoryBytes;
        entries.RemoveAt(from, moved);
        _nodesBytes += entries.MemoryBytes - before;
        LinkAfter(node, second);
    }

    private bool TryLocate(long index, out Node node, out int position)
    {
        node = null!;
        position = 0;
        if (index < 0)
        {
            index += Count;
        }
        if (index < 0 || index >= Count)
        {
            return false;
        }
        if (index < Count / 2)
        {
            for (var n = _head; n is not null; n = n.Next)
            {
                if (index < n.Entries.Count)
                {
                    node = n;
                    position = n.Entries.PositionOf((int)index);
                    return true;
                }
                index -= n.Entries.Count;
            }
            return false;
        }
        var fromTail = Count - 1 - index;
        for (var n = _tail; n is not null; n = n.Previous)
        {
            if (fromTail < n.Entries.Count)
            {
                node = n;
                position = PositionFromEnd(in n.Entries, (int)fromTail);
                return true;
            }
            fromTail -= n.Entries.Count;
        }
        return false;
    }

    /// <summary>The position of the entry <paramref name="back"/> places before the last one, walking backwards.</summary>
    private static int PositionFromEnd(in PackedList entries, int back)
    {
        var position = entries.Last;
        for (var i = 0; i < back; i++)
        {
            position = entries.Previous(position);
        }
        return position;
    }

    private void LinkBefore(Node? next, Node node) => Link(next is null ? _tail : next.Previous, next, node);

    private void LinkAfter(Node? previous, Node node) => Link(previous, previous is null ? _head : previous.Next, node);

    /// <summary>Links <paramref name="node"/> between two neighbours (null: it becomes the head or the tail).</summary>
    private void Link(Node? previous, Node? next, Node node)
    {
        node.Previous = previous;
        node.Next = next;
        if (previous is null)
        {
            _head = node;
        }
        else
        {
            previous.Next = node;
        }
        if (next is null)
        {
            _tail = node;
        }
        else
        {
            next.Previous = node;
        }
        _nodesBytes += NodeBytes(node);
    }

    private void Unlink(Node node)
    {
        if (node.Previous is not null)
        {
            node.Previous.Next = node.Next;
        }
        else
        {
            _head = node.Next;
        }
        if (node.Next is not null)
        {
            node.Next.Previous = node.Previous;
        }
        else
        {
            _tail = node.Previous;
        }
        _nodesBytes -= NodeBytes(node);
    }

    private static long NodeBytes(Node node) => MemorySize.ObjectHeader + 32 + node.Entries.MemoryBytes;
}

/// <summary>Callback of <see cref="ListValue.Visit{TState}"/>: an element and its index; false stops the walk.</summary>
internal delegate bool ElementVisitor<TState>(ReadOnlySpan<byte> element, long index, ref TState state);
