using System.Text;
using Tessera.Resp;

namespace Tessera.Core.Commands;

/// <summary>
/// Key finders for the commands whose key specs are incomplete, variable or invalid for some inputs (Redis's
/// getkeys_proc functions): EVAL/FCALL, SORT, MIGRATE, the *MPOP and Z*STORE families, SINTERCARD, XREAD, SET and
/// BITFIELD. Used only when the key specs cannot answer, as Redis does.
/// </summary>
public static class NativeKeyFinder
{
    /// <summary>
    /// True for commands with their own key finder: those whose key positions depend on their arguments
    /// (movablekeys) and those whose keys' access flags do (a variable_flags key spec: SET ... GET, BITFIELD).
    /// </summary>
    public static bool Has(CommandInfo command) => FindsPositions(command) || command.KeySpecs.Any(k => k.Flags.Contains("variable_flags"));

    /// <summary>True when the finder decides where keys are; SET's and BITFIELD's decide only their keys' flags.</summary>
    public static bool FindsPositions(CommandInfo command) => (command.Flags & CommandFlags.MovableKeys) != 0;

    /// <summary>Adds key positions of <c>args[offset..]</c>; returns the number found, or -1 for invalid arguments.</summary>
    public static int Find(CommandInfo command, Request args, int offset, List<int> keys)
    {
        var argc = args.Count - offset;
        ReadOnlySpan<byte> Arg(int i) => args[offset + i];
        switch (command.Name)
        {
            case "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro":
                return Generic(0, 2, 3, Arg, argc, keys);
            case "zunion" or "zinter" or "zdiff" or "zintercard" or "sintercard" or "lmpop" or "zmpop":
                return Generic(0, 1, 2, Arg, argc, keys);
            case "blmpop" or "bzmpop":
                return Generic(0, 2, 3, Arg, argc, keys);
            case "zunionstore" or "zinterstore" or "zdiffstore":
                return Generic(1, 2, 3, Arg, argc, keys);
            case "sort" or "sort_ro":
                return Sort(command.Name == "sort", Arg, argc, keys);
            case "migrate":
                return Migrate(Arg, argc, keys);
            case "xread" or "xreadgroup":
                return XRead(Arg, argc, keys);
            case "georadius" or "georadiusbymember":
                return GeoRadius(command.Name == "georadius" ? 6 : 5, Arg, argc, keys);
            default:
                keys.Add(1);
                return 1;
        }
    }

    private static int Generic(int storeAt, int countAt, int firstAt, Func<int, ReadOnlySpan<byte>> arg, int argc, List<int> keys)
    {
        var count = Atoi(arg(countAt));
        if (count < 1 || count > argc - firstAt)
        {
            return 0;
        }
        for (var i = 0; i < count; i++)
        {
            keys.Add(firstAt + i);
        }
        if (storeAt > 0)
        {
            keys.Add(storeAt);
        }
        return keys.Count;
    }

    private static int Sort(bool canStore, Func<int, ReadOnlySpan<byte>> arg, int argc, List<int> keys)
    {
        keys.Add(1);
        var store = -1;
        for (var i = 2; i < argc; i++)
        {
            var a = arg(i);
            if (Ascii.EqualsIgnoreCase(a, "limit"u8))
            {
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(a, "get"u8) || Ascii.EqualsIgnoreCase(a, "by"u8))
            {
                i += 1;
            }
            else if (canStore && Ascii.EqualsIgnoreCase(a, "store"u8) && i + 1 < argc)
            {
                // The last STORE wins, as in SORT itself.
                store = i + 1;
            }
        }
        if (store > 0)
        {
            keys.Add(store);
        }
        return keys.Count;
    }

    private static int Migrate(Func<int, ReadOnlySpan<byte>> arg, int argc, List<int> keys)
    {
        var first = 3;
        var count = 1;
        for (var i = 6; i < argc; i++)
        {
            if (Ascii.EqualsIgnoreCase(arg(i), "keys"u8))
            {
                if (!arg(3).IsEmpty)
                {
                    return 0;
                }
                first = i + 1;
                count = argc - first;
                break;
            }
        }
        for (var i = 0; i < count; i++)
        {
            keys.Add(first + i);
        }
        return count;
    }

    private static int XRead(Func<int, ReadOnlySpan<byte>> arg, int argc, List<int> keys)
    {
        var streams = 0;
        for (var i = 1; i < argc; i++)
        {
            if (Ascii.EqualsIgnoreCase(arg(i), "streams"u8))
            {
                streams = i;
                break;
            }
        }
        var count = argc - streams - 1;
        if (streams == 0 || count == 0 || count % 2 != 0)
        {
            return 0;
        }
        for (var i = streams + 1; i < streams + 1 + (count / 2); i++)
        {
            keys.Add(i);
        }
        return keys.Count;
    }

    private static int GeoRadius(int optionsFrom, Func<int, ReadOnlySpan<byte>> arg, int argc, List<int> keys)
    {
        keys.Add(1);
        var store = -1;
        for (var i = optionsFrom; i < argc; i++)
        {
            var a = arg(i);
            if ((Ascii.EqualsIgnoreCase(a, "store"u8) || Ascii.EqualsIgnoreCase(a, "storedist"u8)) && i + 1 < argc)
            {
                store = i + 1;
                i++;
            }
        }
        if (store > 0)
        {
            keys.Add(store);
        }
        return keys.Count;
    }

    /// <summary>
    /// Key flags of the commands whose specs cannot place every key (SORT's STORE, MIGRATE's KEYS, GEORADIUS's
    /// STORE), as their key finders in Redis assign them; null for other commands.
    /// </summary>
    public static IReadOnlyList<string>? FinderFlags(CommandInfo command, int position) => command.Parent is null ? command.Name switch
    {
        "sort" or "sort_ro" or "georadius" or "georadiusbymember" => position == 1 ? ["RO", "access"] : ["OW", "update"],
        "migrate" => ["RW", "access", "delete"],
        _ => null,
    } : null;

    /// <summary>
    /// Key flags of commands whose specs say "variable_flags" (SET, BITFIELD): they depend on the options given,
    /// as Redis's setGetKeys and bitfieldGetKeys decide. Null for other commands.
    /// </summary>
    public static IReadOnlyList<string>? VariableFlags(CommandInfo command, Request args, int offset)
    {
        var argc = args.Count - offset;
        if (command.Name == "set")
        {
            for (var i = 3; i < argc; i++)
            {
                if (Ascii.EqualsIgnoreCase(args[offset + i], "get"u8))
                {
                    return ["RW", "access", "update"];
                }
            }
            return ["OW", "update"];
        }
        if (command.Name == "bitfield")
        {
            for (var i = 2; i < argc; i++)
            {
                var remaining = argc - i - 1;
                var arg = args[offset + i];
                if (Ascii.EqualsIgnoreCase(arg, "get"u8) && remaining >= 2)
                {
                    i += 2;
                }
                else if ((Ascii.EqualsIgnoreCase(arg, "set"u8) || Ascii.EqualsIgnoreCase(arg, "incrby"u8)) && remaining >= 3)
                {
                    return ["RW", "access", "update"];
                }
                else if (Ascii.EqualsIgnoreCase(arg, "overflow"u8) && remaining >= 1)
                {
                    i++;
                }
            }
            return ["RO", "access"];
        }
        return null;
    }

    /// <summary>C's atoi, which Redis's generic key finder uses: leading blanks, a sign, digits, anything after ignored.</summary>
    private static long Atoi(ReadOnlySpan<byte> text)
    {
        var i = 0;
        while (i < text.Length && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r')))
        {
            i++;
        }
        var negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            negative = text[i] == '-';
            i++;
        }
        long value = 0;
        for (; i < text.Length && char.IsAsciiDigit((char)text[i]) && value < int.MaxValue; i++)
        {
            value = (value * 10) + (text[i] - '0');
        }
        return negative ? -value : value;
    }
}
