using System.Text;
using Tessera.Resp;

namespace Tessera.Core.Commands;

/// <summary>How a key spec finds its first key: at a fixed index, or after a keyword.</summary>
public enum BeginSearchKind
{
    Unknown,
    Index,
    Keyword,
}

/// <summary>How a key spec finds the keys after the first: a range, or a count read from the arguments.</summary>
public enum FindKeysKind
{
    Unknown,
    Range,
    KeyNum,
}

/// <summary>
/// One Redis 7 key specification: where a command's keys are among its arguments. Interpreted by
/// <see cref="KeyExtractor"/> for COMMAND GETKEYS, cluster slot checks, proxy routing and client-side routing.
/// </summary>
public sealed class KeySpec
{
    public BeginSearchKind BeginSearch { get; init; }

    /// <summary>Index of the first key (Index) or where the keyword search starts (Keyword; negative counts from the end).</summary>
    public int Position { get; init; }

    /// <summary>The keyword after which keys start (Keyword only), upper case.</summary>
    public byte[] Keyword { get; init; } = [];

    public FindKeysKind FindKeys { get; init; }

    /// <summary>Range: last key relative to the first (negative counts from the end of the arguments).</summary>
    public int LastKey { get; init; }

    /// <summary>Range and KeyNum: distance between keys.</summary>
    public int KeyStep { get; init; } = 1;

    /// <summary>Range with a negative last key: only 1/limit of the remaining arguments are keys.</summary>
    public int Limit { get; init; }

    /// <summary>KeyNum: index of the key count, relative to the first key position.</summary>
    public int KeyNumIndex { get; init; }

    /// <summary>KeyNum: index of the first key, relative to the first key position.</summary>
    public int FirstKey { get; init; }

    /// <summary>The spec's flags (RO, RW, OW, RM, access, update, insert, delete, not_key, incomplete, variable_flags).</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>True for specs of arguments that look like keys but are not (SSUBSCRIBE channels).</summary>
    public bool NotKey => Flags.Contains("not_key");

    /// <summary>True when the spec may miss keys (e.g. SORT ... STORE): the command needs its own key finder.</summary>
    public bool Incomplete => Flags.Contains("incomplete");


    /// <summary>
    /// Adds the positions of this spec's keys in the command <c>args[offset..]</c> (position 0 is the command name)
    /// to <paramref name="keys"/>, following Redis's <c>getKeysUsingKeySpecs</c>: a keyword that is absent
    /// contributes nothing; a range outside the arguments, a malformed key count or an incomplete spec makes the
    /// spec invalid (false), and the caller falls back to the command's own key finder.
    /// </summary>
    public bool AddKeys(Request args, int offset, List<int> keys)
    {
        var argc = args.Count - offset;
        int first;
        switch (BeginSearch)
        {
            case BeginSearchKind.Index:
                first = Position;
                break;
            case BeginSearchKind.Keyword:
                if (!TryFindKeyword(args, offset, out first))
                {
                    return true;
                }
                break;
            default:
                return false;
        }

        int last;
        int step;
        switch (FindKeys)
        {
            case FindKeysKind.Range:
                step = KeyStep;
                if (LastKey >= 0)
                {
                    last = first + LastKey;
                }
                else if (Limit == 0)
                {
                    last = argc + LastKey;
                }
                else
                {
                    last = first + ((argc - first) / Limit) + LastKey;
                }
                break;
            case FindKeysKind.KeyNum:
                if (first + KeyNumIndex >= argc
                    || !RedisInteger.TryParse(args[offset + first + KeyNumIndex], out var count)
                    || count < 0 || count > int.MaxValue)
                {
                    return false;
                }
                step = KeyStep;
                first += FirstKey;
                last = first + (int)count - 1;
                break;
            default:
                return false;
        }

        if (last >= argc || last < first || first >= argc || Incomplete)
        {
            return false;
        }
        for (var i = first; i <= last; i += step)
        {
            keys.Add(i);
        }
        return true;
    }

    private bool TryFindKeyword(Request args, int offset, out int first)
    {
        first = 0;
        var argc = args.Count - offset;
        var start = Position > 0 ? Position : argc + Position;
        var end = Position > 0 ? argc - 1 : 0;
        for (var i = start; i != end; i += start <= end ? 1 : -1)
        {
            if (i >= argc || i < 1)
            {
                return false;
            }
            if (Ascii.EqualsIgnoreCase(args[offset + i], Keyword))
            {
                first = i + 1;
                return true;
            }
        }
        return false;
    }
}
