using Tessera.Core.Text;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>SCAN, HSCAN, SSCAN and ZSCAN's cursor and options (Redis's scanGenericCommand).</summary>
internal struct ScanOptions
{
    public ulong Cursor;
    public long Count;

    /// <summary>Index of the MATCH pattern argument, or -1 (none, or "*").</summary>
    public int PatternIndex;

    /// <summary>Index of the TYPE argument (SCAN only), or -1.</summary>
    public int TypeIndex;

    /// <summary>
    /// Parses the cursor at <paramref name="cursorIndex"/> and the options after it; replies "invalid cursor" or
    /// "syntax error" on failure. TYPE is accepted only by SCAN itself.
    /// </summary>
    public static bool TryParse(CommandContext c, int cursorIndex, bool allowType, out ScanOptions options)
    {
        options = new ScanOptions { Count = 10, PatternIndex = -1, TypeIndex = -1 };
        if (!KeyCommands.TryParseCursor(c, cursorIndex, out options.Cursor))
        {
            return false;
        }
        for (var i = cursorIndex + 1; i < c.ArgCount; i += 2)
        {
            var hasValue = c.ArgCount - i >= 2;
            if (c.ArgIs(i, "count"u8) && hasValue)
            {
                if (!c.TryGetLong(i + 1, out options.Count))
                {
                    return false;
                }
                if (options.Count < 1)
                {
                    c.SyntaxError();
                    return false;
                }
            }
            else if (c.ArgIs(i, "match"u8) && hasValue)
            {
                options.PatternIndex = GlobPattern.MatchesAll(c.Arg(i + 1)) ? -1 : i + 1;
            }
            else if (allowType && c.ArgIs(i, "type"u8) && hasValue)
            {
                options.TypeIndex = i + 1;
            }
            else
            {
                c.SyntaxError();
                return false;
            }
        }
        return true;
    }

    /// <summary>True when <paramref name="element"/> passes the MATCH filter.</summary>
    public readonly bool Matches(CommandContext c, ReadOnlySpan<byte> element)
        => PatternIndex < 0 || GlobPattern.IsMatch(c.Arg(PatternIndex), element);

    /// <summary>Writes the reply: [cursor as bulk string, [elements...]].</summary>
    public static void WriteCursor(CommandContext c, ulong cursor, int elements)
    {
        c.Reply.WriteArrayHeader(2);
        Span<byte> text = stackalloc byte[24];
        cursor.TryFormat(text, out var n);
        c.Reply.WriteBulk(text[..n]);
        c.Reply.WriteArrayHeader(elements);
    }
}
