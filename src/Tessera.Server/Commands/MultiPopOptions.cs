using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>The "numkeys key... FIRST|SECOND [COUNT count]" arguments of LMPOP, ZMPOP and their blocking forms.</summary>
internal static class MultiPopOptions
{
    /// <summary>
    /// Parses from <paramref name="at"/> (numkeys); <paramref name="second"/> is true when the end word is
    /// <paramref name="secondWord"/> (RIGHT, MAX). Replies the error and returns false on bad input.
    /// </summary>
    public static bool TryParse(CommandContext c, int at, ReadOnlySpan<byte> firstWord, ReadOnlySpan<byte> secondWord,
        out int keys, out bool second, out long count)
    {
        keys = 0;
        second = false;
        count = 1;
        if (!RedisInteger.TryParse(c.Arg(at), out var numKeys) || numKeys <= 0)
        {
            c.Error("ERR numkeys should be greater than 0");
            return false;
        }
        if (numKeys >= c.ArgCount - at - 1)
        {
            c.SyntaxError();
            return false;
        }
        keys = (int)numKeys;
        var whereIndex = at + 1 + keys;
        if (c.ArgIs(whereIndex, secondWord))
        {
            second = true;
        }
        else if (!c.ArgIs(whereIndex, firstWord))
        {
            c.SyntaxError();
            return false;
        }
        var hasCount = false;
        for (var j = whereIndex + 1; j < c.ArgCount; j++)
        {
            if (!hasCount && c.ArgIs(j, "count"u8) && j + 1 < c.ArgCount)
            {
                if (!RedisInteger.TryParse(c.Arg(j + 1), out count) || count <= 0)
                {
                    c.Error("ERR count should be greater than 0");
                    return false;
                }
                hasCount = true;
                j++;
            }
            else
            {
                c.SyntaxError();
                return false;
            }
        }
        return true;
    }
}
