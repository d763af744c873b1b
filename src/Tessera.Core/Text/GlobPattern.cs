namespace Tessera.Core.Text;

/// <summary>
/// Glob-style matching with Redis's rules (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL patterns): <c>*</c>, <c>?</c>,
/// <c>[abc]</c>, <c>[^abc]</c>, <c>[a-z]</c> (reversed ranges allowed), <c>\</c> escapes. Bytes compare as C's signed
/// char, as in Redis. Patterns nesting more than 1000 stars fail to match, and a failed tail match stops retrying
/// earlier stars, so hostile patterns cannot take exponential time.
/// </summary>
public static class GlobPattern
{
    private const int MaxNesting = 1000;

    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        var skipLongerMatches = false;
        return Match(pattern, text, ignoreCase, ref skipLongerMatches, 0);
    }

    /// <summary>True when the pattern is a bare "*", which matches everything (lets callers skip matching).</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool nocase, ref bool skipLongerMatches, int nesting)
    {
        if (nesting > MaxNesting)
        {
            return false;
        }
        var p = 0;
        var s = 0;
        while (p < pattern.Length && s < text.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == (byte)'*')
                    {
                        p++;
                    }
                    if (p == pattern.Length - 1)
                    {
                        return true;
                    }
                    while (s < text.Length)
                    {
                        if (Match(pattern[(p + 1)..], text[s..], nocase, ref skipLongerMatches, nesting + 1))
                        {
                            return true;
                        }
                        if (skipLongerMatches)
                        {
                            return false;
                        }
                        s++;
                    }
                    skipLongerMatches = true;
                    return false;
                case (byte)'?':
                    s++;
                    break;
                case (byte)'[':
                    p++;
                    var negate = At(pattern, p) == (byte)'^';
                    if (negate)
                    {
                        p++;
                    }
                    var match = false;
                    while (true)
                    {
                        if (At(pattern, p) == (byte)'\\' && pattern.Length - p >= 2)
                        {
                            p++;
                            if (pattern[p] == text[s])
                            {
                                match = true;
                            }
                        }
                        else if (At(pattern, p) == (byte)']')
                        {
                            break;
                        }
                        else if (p == pattern.Length)
                        {
                            p--;
                            break;
                        }
                        else if (pattern.Length - p >= 3 && pattern[p + 1] == (byte)'-')
                        {
                            int start = (sbyte)pattern[p];
                            int end = (sbyte)pattern[p + 2];
                            int c = (sbyte)text[s];
                            if (start > end)
                            {
                                (start, end) = (end, start);
                            }
                            if (nocase)
                            {
                                start = Lower(start);
                                end = Lower(end);
                                c = Lower(c);
                            }
                            p += 2;
                            if (c >= start && c <= end)
                            {
                                match = true;
                            }
                        }
                        else if (nocase ? Lower((sbyte)pattern[p]) == Lower((sbyte)text[s]) : pattern[p] == text[s])
                        {
                            match = true;
                        }
                        p++;
                    }
                    if (negate)
                    {
                        match = !match;
                    }
                    if (!match)
                    {
                        return false;
                    }
                    s++;
                    break;
                default:
                    if (pattern[p] == (byte)'\\' && pattern.Length - p >= 2)
                    {
                        p++;
                    }
                    if (nocase ? Lower((sbyte)pattern[p]) != Lower((sbyte)text[s]) : pattern[p] != text[s])
                    {
                        return false;
                    }
                    s++;
                    break;
            }
            p++;
            if (s == text.Length)
            {
                while (At(pattern, p) == (byte)'*')
                {
                    p++;
                }
                break;
            }
        }
        return p >= pattern.Length && s == text.Length;
    }

    /// <summary>The pattern byte at <paramref name="index"/>, or 0 past the end (Redis reads the NUL terminator).</summary>
    private static byte At(ReadOnlySpan<byte> pattern, int index) => index < pattern.Length ? pattern[index] : (byte)0;

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
