using Tessera.Core.Text;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>
/// SORT and SORT_RO (Redis's sort.c): sorts a list, set or sorted set numerically or by bytes, optionally by
/// weights in other keys (BY pattern, "*" standing for the element, "->field" reading a hash), returning the
/// elements or other keys' values (GET), a LIMIT window, or storing the result as a list (STORE).
/// </summary>
internal static class SortCommand
{
    public static void Register(CommandRegistry r)
    {
        r.Add("sort", c => Sort(c, readOnly: false));
        r.Add("sort_ro", c => Sort(c, readOnly: true));
    }

    private sealed class Options
    {
        public bool Descending { get; set; }

        public bool Alpha { get; set; }

        public long LimitStart { get; set; }

        public long LimitCount { get; set; } = -1;

        public byte[]? StoreKey { get; set; }

        public byte[]? By { get; set; }

        /// <summary>BY names no key ("nosort"): keep the collection's order.</summary>
        public bool DontSort { get; set; }

        public List<byte[]> Gets { get; } = [];
    }

    /// <summary>One element with what it sorts by: a number, or bytes (null when the BY key is missing).</summary>
    private sealed record Item(byte[] Element)
    {
        public double Score { get; set; }

        public byte[]? CompareBytes { get; set; }
    }

    private static void Sort(CommandContext c, bool readOnly)
    {
        var options = ParseOptions(c, readOnly);
        if (options is null)
        {
            return;
        }
        var source = c.Db.TryGet(c.Arg(1), out var entry) ? entry.Item : null;
        if (source is not null and not ListValue and not SetValue and not SortedSetValue)
        {
            c.WrongType();
            return;
        }
        // Sets in no particular order would make STORE's result, or a script's, differ between nodes: sort them
        // by bytes.
        if (options.DontSort && source is SetValue && (options.StoreKey is not null || c.FromScript))
        {
            options.DontSort = false;
            options.Alpha = true;
            options.By = null;
        }
        if (source is SortedSetValue sortedSet)
        {
            var before = sortedSet.MemoryBytes;
            sortedSet.ConvertToSkipList();
            c.Db.AdjustMemory(sortedSet.MemoryBytes - before);
        }
        var length = source switch
        {
            ListValue list => list.Count,
            SetValue set => set.Count,
            SortedSetValue zset => zset.Count,
            _ => 0,
        };
        var (start, end) = Window(options, length);
        var items = Load(source, options, start, end);
        if (options.DontSort && source is ListValue or SortedSetValue)
        {
            // The window was applied while loading.
            end -= start;
            start = 0;
        }
        if (!options.DontSort)
        {
            if (!Weigh(c, items, options))
            {
                c.Error("ERR One or more scores can't be converted into double");
                return;
            }
            items = Order(items, options);
        }
        var outputCount = end >= start ? (end - start + 1) * Math.Max(1, options.Gets.Count) : 0;
        if (options.StoreKey is null)
        {
            Reply(c, items, start, end, options, outputCount);
        }
        else
        {
            Store(c, items, start, end, options, outputCount);
        }
    }

    /// <summary>Options in Redis's order of checks; null after replying an error.</summary>
    private static Options? ParseOptions(CommandContext c, bool readOnly)
    {
        var options = new Options();
        for (var j = 2; j < c.ArgCount; j++)
        {
            var left = c.ArgCount - j - 1;
            if (c.ArgIs(j, "asc"u8))
            {
                options.Descending = false;
            }
            else if (c.ArgIs(j, "desc"u8))
            {
                options.Descending = true;
            }
            else if (c.ArgIs(j, "alpha"u8))
            {
                options.Alpha = true;
            }
            else if (c.ArgIs(j, "limit"u8) && left >= 2)
            {
                if (!c.TryGetLong(j + 1, out var limitStart) || !c.TryGetLong(j + 2, out var limitCount))
                {
                    return null;
                }
                options.LimitStart = limitStart;
                options.LimitCount = limitCount;
                j += 2;
            }
            else if (c.ArgIs(j, "store"u8) && left >= 1 && !readOnly)
            {
                options.StoreKey = c.Args.ToArray(j + 1);
                j++;
            }
            else if (c.ArgIs(j, "by"u8) && left >= 1)
            {
                options.By = c.Args.ToArray(j + 1);
                if (!ContainsStar(options.By))
                {
                    options.DontSort = true;
                }
                else if (c.Server.Config.ClusterEnabled.Value)
                {
                    c.Error("ERR BY option of SORT denied in Cluster mode.");
                    return null;
                }
                j++;
            }
            else if (c.ArgIs(j, "get"u8) && left >= 1)
            {
                if (c.Server.Config.ClusterEnabled.Value)
                {
                    c.Error("ERR GET option of SORT denied in Cluster mode.");
                    return null;
                }
                options.Gets.Add(c.Args.ToArray(j + 1));
                j++;
            }
            else
            {
                c.SyntaxError();
                return null;
            }
        }
        return options;
    }

    /// <summary>
    /// LIMIT as Redis clamps it: [start, end] within the collection, end &lt; start when empty. Start and count
    /// are first bounded by the length, so no sum of them can overflow.
    /// </summary>
    private static (long Start, long End) Window(Options options, long length)
    {
        var start = Math.Min(Math.Max(0, options.LimitStart), length);
        var count = Math.Min(Math.Max(-1, options.LimitCount), length);
        var end = count < 0 ? length - 1 : start + count - 1;
        if (start >= length)
        {
            start = length - 1;
            end = length - 2;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        return (start, end);
    }

    /// <summary>
    /// The elements to sort. Without sorting, lists and sorted sets load just the window, in their order
    /// (from the end for DESC); otherwise everything.
    /// </summary>
    private static List<Item> Load(object? source, Options options, long start, long end)
    {
        var items = new List<Item>();
        switch (source)
        {
            case ListValue list when options.DontSort:
                if (end >= start)
                {
                    var from = options.Descending ? list.Count - start - 1 : start;
                    var state = (Items: items, Remaining: end - start + 1);
                    list.Visit(from, options.Descending, ref state, static (element, _, ref s) =>
                    {
                        s.Items.Add(new Item(element.ToArray()));
                        return --s.Remaining > 0;
                    });
                }
                break;
            case ListValue list:
                var all = (Items: items, Remaining: list.Count);
                if (list.Count > 0)
                {
                    list.Visit(0, backwards: false, ref all, static (element, _, ref s) =>
                    {
                        s.Items.Add(new Item(element.ToArray()));
                        return true;
                    });
                }
                break;
            case SetValue set:
                items.AddRange(set.Members().Select(m => new Item(m)));
                break;
            case SortedSetValue zset when options.DontSort:
                if (end >= start)
                {
                    var first = options.Descending ? zset.Count - 1 - start : start;
                    items.AddRange(zset.Walk(first, options.Descending).Take((int)(end - start + 1)).Select(e => new Item(e.Member)));
                }
                break;
            case SortedSetValue zset:
                items.AddRange(zset.Walk(0, reverse: false).Select(e => new Item(e.Member)));
                break;
        }
        return items;
    }

    /// <summary>Computes what each element sorts by; false when a numeric weight is not a number.</summary>
    private static bool Weigh(CommandContext c, List<Item> items, Options options)
    {
        var valid = true;
        foreach (var item in items)
        {
            byte[]? weight;
            if (options.By is not null)
            {
                weight = LookupByPattern(c, options.By, item.Element);
                if (weight is null)
                {
                    continue;
                }
            }
            else
            {
                weight = item.Element;
            }
            if (options.Alpha)
            {
                if (options.By is not null)
                {
                    item.CompareBytes = weight;
                }
                continue;
            }
            // strtod up to the first NUL (C string), the whole of it a number, in range, not NaN.
            var text = weight.AsSpan();
            var nul = text.IndexOf((byte)0);
            if (nul >= 0)
            {
                text = text[..nul];
            }
            item.Score = CDouble.ParsePrefix(text, out var consumed, out var outOfRange);
            if (consumed != text.Length || outOfRange || double.IsNaN(item.Score))
            {
                valid = false;
            }
        }
        return valid;
    }

    /// <summary>Sorts stably (as glibc's merge sort does for Redis), descending by negated comparison.</summary>
    private static List<Item> Order(List<Item> items, Options options)
    {
        var store = options.StoreKey is not null;
        Comparison<Item> compare = !options.Alpha
            ? (a, b) => a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : a.Element.AsSpan().SequenceCompareTo(b.Element)
            : options.By is not null
                ? (a, b) => a.CompareBytes is null || b.CompareBytes is null
                    ? (a.CompareBytes is null ? 0 : 1) - (b.CompareBytes is null ? 0 : 1)
                    : CompareText(a.CompareBytes, b.CompareBytes, store)
                : (a, b) => CompareText(a.Element, b.Element, store);
        var comparer = Comparer<Item>.Create(options.Descending ? (a, b) => -compare(a, b) : compare);
        return [.. items.Order(comparer)];
    }

    /// <summary>
    /// Bytes compare whole when storing (Redis's binary compare); otherwise as C strings up to a NUL, as strcoll
    /// does in the C locale.
    /// </summary>
    private static int CompareText(byte[] a, byte[] b, bool binary)
    {
        if (binary)
        {
            return Math.Sign(a.AsSpan().SequenceCompareTo(b));
        }
        return Math.Sign(UpToNul(a).SequenceCompareTo(UpToNul(b)));
    }

    private static ReadOnlySpan<byte> UpToNul(byte[] bytes)
    {
        var nul = Array.IndexOf(bytes, (byte)0);
        return nul < 0 ? bytes : bytes.AsSpan(0, nul);
    }

    private static void Reply(CommandContext c, List<Item> items, long start, long end, Options options, long outputCount)
    {
        var w = c.Reply;
        w.WriteArrayHeader(outputCount);
        for (var j = start; j <= end; j++)
        {
            var element = items[(int)j].Element;
            if (options.Gets.Count == 0)
            {
                w.WriteBulk(element);
                continue;
            }
            foreach (var pattern in options.Gets)
            {
                var value = LookupByPattern(c, pattern, element);
                if (value is null)
                {
                    w.WriteNullBulk();
                }
                else
                {
                    w.WriteBulk(value);
                }
            }
        }
    }

    private static void Store(CommandContext c, List<Item> items, long start, long end, Options options, long outputCount)
    {
        var key = options.StoreKey!;
        if (outputCount == 0)
        {
            if (c.Db.Delete(key))
            {
                c.Modified(key, KeyspaceEvents.Generic, "del"u8);
            }
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var result = new ListValue(c.Server.Config.ListMaxListpackSize.Value);
        for (var j = start; j <= end; j++)
        {
            var element = items[(int)j].Element;
            if (options.Gets.Count == 0)
            {
                result.Push(element, head: false);
                continue;
            }
            foreach (var pattern in options.Gets)
            {
                result.Push(LookupByPattern(c, pattern, element) ?? [], head: false);
            }
        }
        c.Db.Set(key, result);
        c.Modified(key, KeyspaceEvents.List, "sortstore"u8, outputCount);
        c.Reply.WriteInteger(outputCount);
    }

    /// <summary>
    /// Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first "*" becomes the element and the
    /// key's string value is read, or with "->field" after the star, that field of the hash. Null when missing.
    /// </summary>
    private static byte[]? LookupByPattern(CommandContext c, byte[] pattern, byte[] element)
    {
        if (pattern is [(byte)'#'])
        {
            return element;
        }
        var text = UpToNul(pattern);
        var star = text.IndexOf((byte)'*');
        if (star < 0)
        {
            return null;
        }
        var arrow = text[(star + 1)..].IndexOf("->"u8);
        var field = ReadOnlySpan<byte>.Empty;
        var keyEnd = pattern.Length;
        if (arrow >= 0 && star + 1 + arrow + 2 < text.Length)
        {
            keyEnd = star + 1 + arrow;
            field = pattern.AsSpan(keyEnd + 2);
        }
        var key = new byte[star + element.Length + (keyEnd - star - 1)];
        pattern.AsSpan(0, star).CopyTo(key);
        element.CopyTo(key, star);
        pattern.AsSpan(star + 1, keyEnd - star - 1).CopyTo(key.AsSpan(star + element.Length));
        if (!c.Db.TryGet(key, out var entry))
        {
            return null;
        }
        if (!field.IsEmpty)
        {
            return entry.Item is HashValue hash && hash.TryGet(field, out var value) ? value.ToArray() : null;
        }
        return StringValue.TryGetBytes(entry.Item, out var bytes) ? bytes.ToArray() : null;
    }

    private static bool ContainsStar(byte[] pattern) => UpToNul(pattern).Contains((byte)'*');
}
