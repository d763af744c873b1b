namespace Tessera.Resp;

/// <summary>
/// Splits an inline command line into arguments with Redis's quoting rules (<c>sdssplitargs</c>): blanks separate
/// arguments; "double quotes" understand \n \r \t \b \a \\ \" and \xHH; 'single quotes' understand only \';
/// a closing quote must be followed by a blank or the end; a NUL byte ends the line.
/// Also used by the config file reader, which follows the same rules.
/// </summary>
public static class InlineSplitter
{
    /// <summary>
    /// Splits <paramref name="line"/>, writing unescaped bytes into <paramref name="scratch"/> (at least as long as
    /// the line) and adding each argument's place in it to <paramref name="request"/>. False on unbalanced quotes.
    /// </summary>
    public static bool Split(ReadOnlySpan<byte> line, byte[] scratch, Request request)
    {
        var nul = line.IndexOf((byte)0);
        if (nul >= 0)
        {
            line = line[..nul];
        }
        var p = 0;
        var w = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p]))
            {
                p++;
            }
            if (p == line.Length)
            {
                return true;
            }
            var start = w;
            var inDouble = false;
            var inSingle = false;
            var done = false;
            while (!done)
            {
                var c = p < line.Length ? line[p] : (byte)0;
                if (inDouble)
                {
                    if (c == '\\' && p + 3 < line.Length && line[p + 1] == 'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        scratch[w++] = (byte)((HexValue(line[p + 2]) << 4) | HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        scratch[w++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else if (p == line.Length)
                    {
                        return false;
                    }
                    else
                    {
                        scratch[w++] = c;
                    }
                }
                else if (inSingle)
                {
                    if (c == '\\' && p + 1 < line.Length && line[p + 1] == '\'')
                    {
                        p++;
                        scratch[w++] = (byte)'\'';
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else if (p == line.Length)
                    {
                        return false;
                    }
                    else
                    {
                        scratch[w++] = c;
                    }
                }
                else
                {
                    switch (c)
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            scratch[w++] = c;
                            break;
                    }
                }
                if (p < line.Length)
                {
                    p++;
                }
            }
            request.Add(start, w - start);
        }
    }

    /// <summary>The words of <paramref name="line"/> as separate arrays; null on unbalanced quotes.</summary>
    public static byte[][]? SplitWords(ReadOnlySpan<byte> line)
    {
        var request = new Request();
        var scratch = new byte[line.Length];
        if (!Split(line, scratch, request))
        {
            return null;
        }
        request.Bind(scratch, 0);
        var words = new byte[request.Count][];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = request[i].ToArray();
        }
        return words;
    }

    /// <summary>C's isspace: space, \t, \n, \v, \f, \r.</summary>
    private static bool IsSpace(byte c) => c == ' ' || (c >= '\t' && c <= '\r');

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
