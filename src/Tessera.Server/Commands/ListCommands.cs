using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>List commands (Redis's t_list.c): pushing, popping, indexing, ranges, moving between lists.</summary>
internal static partial class ListCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("lpush", c => Push(c, head: true, onlyExisting: false));
        r.Add("rpush", c => Push(c, head: false, onlyExisting: false));
        r.Add("lpushx", c => Push(c, head: true, onlyExisting: true));
        r.Add("rpushx", c => Push(c, head: false, onlyExisting: true));
        r.Add("lpop", c => Pop(c, head: true));
        r.Add("rpop", c => Pop(c, head: false));
        r.Add("llen", c =>
        {
            if (c.TryGet(c.Arg(1), out ListValue? list))
            {
                c.Reply.WriteInteger(list?.Count ?? 0);
            }
        });
        r.Add("lrange", Range);
        r.Add("lindex", Index);
        r.Add("lset", Set);
        r.Add("linsert", Insert);
        r.Add("lrem", Remove);
        r.Add("ltrim", Trim);
        r.Add("lpos", Position);
        r.Add("lmove", c =>
        {
            if (TryParseEnd(c, 3, out var fromHead) && TryParseEnd(c, 4, out var toHead))
            {
                Move(c, fromHead, toHead);
            }
        });
        r.Add("rpoplpush", c => Move(c, fromHead: false, toHead: true));
        r.Add("lmpop", c => MultiPop(c, 1));
        RegisterBlocking(r);
    }

    private static ListValue NewList(CommandContext c) => new(c.Server.Config.ListMaxListpackSize.Value);

    /// <summary>LEFT or RIGHT; replies a syntax error otherwise.</summary>
    private static bool TryParseEnd(CommandContext c, int index, out bool head)
    {
        head = c.ArgIs(index, "left"u8);
        if (head || c.ArgIs(index, "right"u8))
        {
            return true;
        }
        c.SyntaxError();
        return false;
    }

    private static void Push(CommandContext c, bool head, bool onlyExisting)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        if (list is null)
        {
            if (onlyExisting)
            {
                c.Reply.WriteLiteral(Replies.Zero);
                return;
            }
            list = NewList(c);
            c.Db.Add(key, list);
        }
        var before = list.MemoryBytes;
        for (var i = 2; i < c.ArgCount; i++)
        {
            list.Push(c.Arg(i), head);
        }
        c.Changed(key, list, before, KeyspaceEvents.List, head ? "lpush"u8 : "rpush"u8, c.ArgCount - 2);
        c.Reply.WriteInteger(list.Count);
    }

    private static void Pop(CommandContext c, bool head)
    {
        if (c.ArgCount > 3)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        long count = 0;
        var hasCount = c.ArgCount == 3;
        if (hasCount && (!RedisInteger.TryParse(c.Arg(2), out count) || count < 0))
        {
            c.Error("ERR value is out of range, must be positive");
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        if (list is null)
        {
            if (hasCount)
            {
                c.Reply.WriteNullArray();
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
            return;
        }
        if (!hasCount)
        {
            PopElements(c, key, list, head, 1, asArray: false);
        }
        else if (count == 0)
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
        }
        else
        {
            PopElements(c, key, list, head, count, asArray: true);
        }
    }

    /// <summary>Replies up to <paramref name="count"/> elements from one end (an array, or one bulk) and removes them.</summary>
    private static void PopElements(CommandContext c, ReadOnlySpan<byte> key, ListValue list, bool head, long count, bool asArray)
    {
        var before = list.MemoryBytes;
        count = Math.Min(count, list.Count);
        var w = c.Reply;
        if (asArray)
        {
            w.WriteArrayHeader(count);
        }
        if (count == 1)
        {
            w.WriteBulk(list.Peek(head));
        }
        else
        {
            WriteElements(list, head ? 0 : list.Count - 1, count, backwards: !head, w);
        }
        list.Drop(head, count);
        c.Changed(key, list, before, KeyspaceEvents.List, head ? "lpop"u8 : "rpop"u8, count);
        if (c.Propagating)
        {
            // LMPOP and the blocking pops name the key they took from, as LPOP/RPOP do.
            c.PropagateAs(head ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray(), key.ToArray(), CommandContext.Number(count));
        }
    }

    /// <summary>Writes <paramref name="count"/> elements as bulk strings, from index <paramref name="start"/>.</summary>
    private static void WriteElements(ListValue list, long start, long count, bool backwards, RespWriter writer)
    {
        var state = (Writer: writer, Remaining: count);
        list.Visit(start, backwards, ref state, static (element, _, ref s) =>
        {
            s.Writer.WriteBulk(element);
            return --s.Remaining > 0;
        });
    }

    private static void Range(CommandContext c)
    {
        if (!c.TryGetLong(2, out var start) || !c.TryGetLong(3, out var end)
            || !c.TryGet(c.Arg(1), out ListValue? list))
        {
            return;
        }
        if (list is null || !TryClampRange(list.Count, ref start, ref end))
        {
            c.Reply.WriteLiteral(Replies.EmptyArray);
            return;
        }
        c.Reply.WriteArrayHeader(end - start + 1);
        WriteElements(list, start, end - start + 1, backwards: false, c.Reply);
    }

    /// <summary>Redis's index arithmetic for LRANGE and LTRIM: false when the range is empty.</summary>
    private static bool TryClampRange(long length, ref long start, ref long end)
    {
        if (start < 0)
        {
            start += length;
        }
        if (end < 0)
        {
            end += length;
        }
        if (start < 0)
        {
            start = 0;
        }
        if (start > end || start >= length)
        {
            return false;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        return true;
    }

    private static void Index(CommandContext c)
    {
        if (!c.TryGet(c.Arg(1), out ListValue? list))
        {
            return;
        }
        if (list is null)
        {
            c.Reply.WriteNullBulk();
            return;
        }
        if (!c.TryGetLong(2, out var index))
        {
            return;
        }
        if (list.TryGet(index, out var element))
        {
            c.Reply.WriteBulk(element);
        }
        else
        {
            c.Reply.WriteNullBulk();
        }
    }

    private static void Set(CommandContext c)
    {
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        if (list is null)
        {
            c.Error(Replies.NoSuchKey);
            return;
        }
        if (!c.TryGetLong(2, out var index))
        {
            return;
        }
        var before = list.MemoryBytes;
        if (!list.Set(index, c.Arg(3)))
        {
            c.Error("ERR index out of range");
            return;
        }
        c.Changed(key, list, before, KeyspaceEvents.List, "lset"u8);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Insert(CommandContext c)
    {
        var after = c.ArgIs(2, "after"u8);
        if (!after && !c.ArgIs(2, "before"u8))
        {
            c.SyntaxError();
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        if (list is null)
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var before = list.MemoryBytes;
        if (!list.Insert(c.Arg(3), c.Arg(4), after))
        {
            c.Reply.WriteLiteral(Replies.MinusOne);
            return;
        }
        c.Changed(key, list, before, KeyspaceEvents.List, "linsert"u8);
        c.Reply.WriteInteger(list.Count);
    }

    private static void Remove(CommandContext c)
    {
        if (!c.TryGetLong(2, out var count))
        {
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        long removed = 0;
        if (list is not null)
        {
            var before = list.MemoryBytes;
            // Negating long.MinValue overflows in Redis too, leaving no limit.
            var limit = count == long.MinValue ? 0 : Math.Abs(count);
            removed = list.Remove(c.Arg(3), limit, fromTail: count < 0);
            if (removed > 0)
            {
                c.Changed(key, list, before, KeyspaceEvents.List, "lrem"u8, removed);
            }
        }
        c.Reply.WriteInteger(removed);
    }

    private static void Trim(CommandContext c)
    {
        if (!c.TryGetLong(2, out var start) || !c.TryGetLong(3, out var end))
        {
            return;
        }
        var key = c.Arg(1);
        if (!c.TryGet(key, out ListValue? list, LookupFlags.Write))
        {
            return;
        }
        if (list is not null)
        {
            var before = list.MemoryBytes;
            var length = list.Count;
            if (!TryClampRange(length, ref start, ref end))
            {
                start = 1;
                end = 0;
            }
            list.Trim(start, end);
            c.Changed(key, list, before, KeyspaceEvents.List, "ltrim"u8, length - list.Count);
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Position(CommandContext c)
    {
        long rank = 1;
        long count = -1;
        long maxLength = 0;
        for (var j = 3; j < c.ArgCount; j++)
        {
            var hasValue = j + 1 < c.ArgCount;
            if (hasValue && c.ArgIs(j, "rank"u8))
            {
                if (!c.TryGetLong(++j, out rank))
                {
                    return;
                }
                if (rank == 0)
                {
                    c.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (hasValue && c.ArgIs(j, "count"u8))
            {
                if (!RedisInteger.TryParse(c.Arg(++j), out count) || count < 0)
                {
                    c.Error("ERR COUNT can't be negative");
                    return;
                }
            }
            else if (hasValue && c.ArgIs(j, "maxlen"u8))
            {
                if (!RedisInteger.TryParse(c.Arg(++j), out maxLength) || maxLength < 0)
                {
                    c.Error("ERR MAXLEN can't be negative");
                    return;
                }
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (!c.TryGet(c.Arg(1), out ListValue? list))
        {
            return;
        }
        if (list is null)
        {
            if (count >= 0)
            {
                c.Reply.WriteLiteral(Replies.EmptyArray);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
            return;
        }
        var search = new PositionSearch
        {
            Element = c.Args.ToArray(2),
            // Redis negates the rank to search from the tail; long.MinValue stays negative, so every match counts.
            Rank = rank == long.MinValue ? 1 : Math.Abs(rank),
            Wanted = count < 0 ? 1 : count,
            MaxLength = maxLength,
            Matches = [],
        };
        var fromTail = rank < 0;
        list.Visit(fromTail ? list.Count - 1 : 0, fromTail, ref search, static (element, index, ref s) =>
        {
            if (s.MaxLength > 0 && s.Scanned++ >= s.MaxLength)
            {
                return false;
            }
            if (element.SequenceEqual(s.Element) && ++s.Seen >= s.Rank)
            {
                s.Matches.Add(index);
                return s.Wanted == 0 || s.Matches.Count < s.Wanted;
            }
            return true;
        });
        if (count < 0)
        {
            if (search.Matches.Count > 0)
            {
                c.Reply.WriteInteger(search.Matches[0]);
            }
            else
            {
                c.Reply.WriteNullBulk();
            }
            return;
        }
        c.Reply.WriteArrayHeader(search.Matches.Count);
        foreach (var index in search.Matches)
        {
            c.Reply.WriteInteger(index);
        }
    }

    /// <summary>LPOS's progress through the list.</summary>
    private struct PositionSearch
    {
        public byte[] Element;
        public long Rank;
        public long Wanted;
        public long MaxLength;
        public long Scanned;
        public long Seen;
        public List<long> Matches;
    }

    /// <summary>LMOVE and RPOPLPUSH (and their blocking forms once the source has elements).</summary>
    private static void Move(CommandContext c, bool fromHead, bool toHead)
    {
        var sourceKey = c.Arg(1);
        if (!c.TryGet(sourceKey, out ListValue? source, LookupFlags.Write))
        {
            return;
        }
        if (source is null)
        {
            c.Reply.WriteNullBulk();
            return;
        }
        MoveFrom(c, source, fromHead, toHead);
    }

    /// <summary>Pops from <paramref name="source"/> (at argument 1, not empty) and pushes to the list at argument 2.</summary>
    private static void MoveFrom(CommandContext c, ListValue source, bool fromHead, bool toHead)
    {
        var sourceKey = c.Arg(1);
        var destinationKey = c.Arg(2);
        if (!c.TryGet(destinationKey, out ListValue? destination, LookupFlags.Write))
        {
            return;
        }
        var sourceBefore = source.MemoryBytes;
        var value = source.Pop(fromHead);
        if (destination is null)
        {
            destination = NewList(c);
            c.Db.Add(destinationKey, destination);
        }
        var destinationBefore = destination.MemoryBytes;
        destination.Push(value, toHead);
        // As Redis's LMOVE: the push event on the destination, then the pop event (and "del") on the source.
        var pushEvent = toHead ? "lpush"u8 : "rpush"u8;
        if (destination != source)
        {
            c.Changed(destinationKey, destination, destinationBefore, KeyspaceEvents.List, pushEvent, changes: 0);
        }
        else
        {
            c.Modified(destinationKey, KeyspaceEvents.List, pushEvent, changes: 0);
        }
        c.Changed(sourceKey, source, sourceBefore, KeyspaceEvents.List, fromHead ? "lpop"u8 : "rpop"u8);
        if (c.Propagating)
        {
            c.PropagateAs("LMOVE"u8.ToArray(), sourceKey.ToArray(), destinationKey.ToArray(),
                fromHead ? "LEFT"u8.ToArray() : "RIGHT"u8.ToArray(), toHead ? "LEFT"u8.ToArray() : "RIGHT"u8.ToArray());
        }
        c.Reply.WriteBulk(value);
    }

    /// <summary>[B]LMPOP from the argument at <paramref name="at"/> (numkeys).</summary>
    private static void MultiPop(CommandContext c, int at, long deadlineMs = -1)
    {
        if (!MultiPopOptions.TryParse(c, at, "left"u8, "right"u8, out var keys, out var fromTail, out var count))
        {
            return;
        }
        if (!c.TryGetFirst(at + 1, keys, out var index, out ListValue? list))
        {
            return;
        }
        if (list is not null)
        {
            c.Reply.WriteArrayHeader(2);
            c.Reply.WriteBulk(c.Arg(index));
            PopElements(c, c.Arg(index), list, !fromTail, count, asArray: true);
            return;
        }
        if (deadlineMs < 0)
        {
            c.Reply.WriteNullArray();
            return;
        }
        c.Block<ListValue>(c.CopyArgs(at + 1, keys), deadlineMs);
    }
}
