using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>LCS: longest common subsequence of two strings, with Redis's exact range reporting.</summary>
internal static partial class StringCommands
{
    private static void Lcs(CommandContext c)
    {
        var db = c.Db;
        ReadOnlySpan<byte> a = default;
        ReadOnlySpan<byte> b = default;
        var aIsString = !db.TryGet(c.Arg(1), out var ka) || StringValue.TryGetBytes(ka.Item, out a);
        var bIsString = !db.TryGet(c.Arg(2), out var kb) || StringValue.TryGetBytes(kb.Item, out b);
        if (!aIsString || !bIsString)
        {
            c.Error("ERR The specified keys must contain string values");
            return;
        }
        var getIdx = false;
        var getLen = false;
        var withMatchLen = false;
        long minMatchLen = 0;
        for (var j = 3; j < c.ArgCount; j++)
        {
            var moreArgs = c.ArgCount - 1 - j;
            if (c.ArgIs(j, "idx"u8))
            {
                getIdx = true;
            }
            else if (c.ArgIs(j, "len"u8))
            {
                getLen = true;
            }
            else if (c.ArgIs(j, "withmatchlen"u8))
            {
                withMatchLen = true;
            }
            else if (c.ArgIs(j, "minmatchlen"u8) && moreArgs > 0)
            {
                if (!c.TryGetLong(j + 1, out minMatchLen))
                {
                    return;
                }
                minMatchLen = Math.Max(0, minMatchLen);
                j++;
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (getIdx && getLen)
        {
            c.Error("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }
        var cells = (long)(a.Length + 1) * (b.Length + 1);
        if (cells * 4 > c.Server.Config.ProtoMaxBulkLen.Value)
        {
            c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        WriteLcs(c, a, b, getIdx, getLen, withMatchLen, minMatchLen);
    }

    private static void WriteLcs(CommandContext c, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool getIdx, bool getLen,
        bool withMatchLen, long minMatchLen)
    {
        var alen = a.Length;
        var blen = b.Length;
        var width = blen + 1;
        var table = new uint[(alen + 1) * width];
        for (var i = 1; i <= alen; i++)
        {
            for (var j = 1; j <= blen; j++)
            {
                table[(i * width) + j] = a[i - 1] == b[j - 1]
                    ? table[((i - 1) * width) + j - 1] + 1
                    : Math.Max(table[((i - 1) * width) + j], table[(i * width) + j - 1]);
            }
        }
        var length = (int)table[(alen * width) + blen];
        var computeLcs = getIdx || !getLen;
        var result = computeLcs ? new byte[length] : [];
        var ranges = new List<(int AStart, int AEnd, int BStart, int BEnd)>();
        var idx = length;
        int aStart = alen, aEnd = 0, bStart = 0, bEnd = 0;
        var x = alen;
        var y = blen;
        // Walk back from the end, as Redis does, emitting ranges of contiguous matches.
        while (computeLcs && x > 0 && y > 0)
        {
            var emit = false;
            if (a[x - 1] == b[y - 1])
            {
                result[idx - 1] = a[x - 1];
                if (aStart == alen)
                {
                    aStart = x - 1;
                    aEnd = x - 1;
                    bStart = y - 1;
                    bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }
                if (aStart == 0 || bStart == 0)
                {
                    emit = true;
                }
                idx--;
                x--;
                y--;
            }
            else
            {
                if (table[((x - 1) * width) + y] > table[(x * width) + y - 1])
                {
                    x--;
                }
                else
                {
                    y--;
                }
                if (aStart != alen)
                {
                    emit = true;
                }
            }
            if (emit)
            {
                if (minMatchLen == 0 || aEnd - aStart + 1 >= minMatchLen)
                {
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                }
                aStart = alen;
            }
        }
        if (getIdx)
        {
            var w = c.Reply;
            w.WriteMapHeader(2);
            w.WriteBulk("matches"u8);
            w.WriteArrayHeader(ranges.Count);
            foreach (var (s1, e1, s2, e2) in ranges)
            {
                w.WriteArrayHeader(withMatchLen ? 3 : 2);
                w.WriteArrayHeader(2);
                w.WriteInteger(s1);
                w.WriteInteger(e1);
                w.WriteArrayHeader(2);
                w.WriteInteger(s2);
                w.WriteInteger(e2);
                if (withMatchLen)
                {
                    w.WriteInteger(e1 - s1 + 1);
                }
            }
            w.WriteBulk("len"u8);
            w.WriteInteger(length);
        }
        else if (getLen)
        {
            c.Reply.WriteInteger(length);
        }
        else
        {
            c.Reply.WriteBulk(result);
        }
    }
}
