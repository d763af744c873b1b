using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Tessera.Core.Commands;

/// <summary>
/// Everything known about one command or subcommand before it runs: name, arity (Redis convention: positive means
/// exactly, negative means at least), flags, legacy key positions, ACL categories, key specs and documentation.
/// Loaded from the command table (<c>commands.json</c>); arity errors, COMMAND replies, key extraction for cluster
/// and proxy routing all read it.
/// </summary>
public sealed class CommandInfo
{
    private readonly Dictionary<string, CommandInfo>.AlternateLookup<ReadOnlySpan<char>> _subcommandLookup;

    internal CommandInfo(JsonElement entry, CommandInfo? parent, int id, StrongBox<int> nextIndex)
    {
        Parent = parent;
        Id = id;
        Index = nextIndex.Value++;
        FullName = entry.GetProperty("name").GetString()!;
        Name = parent is null ? FullName : FullName[(FullName.IndexOf('|') + 1)..];
        FullNameBytes = Encoding.ASCII.GetBytes(FullName);
        Arity = entry.GetProperty("arity").GetInt32();
        FlagNames = [.. entry.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!)];
        foreach (var flag in FlagNames)
        {
            Flags |= CommandFlagNames.Parse(flag);
        }
        if (entry.TryGetProperty("internalFlags", out var internalFlags))
        {
            foreach (var flag in internalFlags.EnumerateArray())
            {
                Flags |= CommandFlagNames.Parse(flag.GetString()!);
            }
        }
        FirstKey = entry.GetProperty("firstKey").GetInt32();
        LastKey = entry.GetProperty("lastKey").GetInt32();
        Step = entry.GetProperty("step").GetInt32();
        AclCategories = [.. entry.GetProperty("acl").EnumerateArray().Select(c => c.GetString()!)];
        Tips = [.. entry.GetProperty("tips").EnumerateArray().Select(t => t.GetString()!)];
        KeySpecsJson = entry.GetProperty("keySpecs").Clone();
        KeySpecs = [.. KeySpecsJson.EnumerateArray().Select(ParseKeySpec)];
        KeySpecsAreReliable = KeySpecs.Any(k => !k.NotKey) && !KeySpecs.Any(k => k.Flags.Contains("variable_flags"));
        HasKeys = KeySpecs.Any(k => !k.NotKey) || NativeKeyFinder.Has(this);
        // variable_flags (SET's GET option) changes the key's access flags, not where it is.
        SingleKeyPosition = KeySpecs is [{ BeginSearch: BeginSearchKind.Index, FindKeys: FindKeysKind.Range, LastKey: 0 } only] && !only.NotKey
            && !NativeKeyFinder.FindsPositions(this) ? only.Position : -1;
        Docs = entry.TryGetProperty("docs", out var docs) ? docs.Clone() : null;
        var subcommands = new Dictionary<string, CommandInfo>(StringComparer.OrdinalIgnoreCase);
        if (entry.TryGetProperty("subcommands", out var subs))
        {
            foreach (var sub in subs.EnumerateArray())
            {
                var info = new CommandInfo(sub, this, id, nextIndex);
                subcommands[info.Name] = info;
            }
        }
        Subcommands = subcommands;
        _subcommandLookup = subcommands.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Name as Redis reports it: "get", or "config|get" for a subcommand.</summary>
    public string FullName { get; }

    /// <summary>The name alone: "get" for both GET and CONFIG GET.</summary>
    public string Name { get; }

    /// <summary><see cref="FullName"/> as bytes, for replies.</summary>
    public byte[] FullNameBytes { get; }

    /// <summary>Dense index of the top-level command, shared by its subcommands; for per-command counters.</summary>
    public int Id { get; }

    /// <summary>Dense index over commands and subcommands alike (ACL permission bits), below <see cref="CommandTable.IndexCount"/>.</summary>
    public int Index { get; }

    public int Arity { get; }

    public CommandFlags Flags { get; }

    /// <summary>Flag names in the order COMMAND INFO lists them.</summary>
    public IReadOnlyList<string> FlagNames { get; }

    public int FirstKey { get; }

    public int LastKey { get; }

    public int Step { get; }

    public IReadOnlyList<string> AclCategories { get; }

    public IReadOnlyList<string> Tips { get; }

    public IReadOnlyList<KeySpec> KeySpecs { get; }

    /// <summary>The key specs as stored, for COMMAND INFO.</summary>
    public JsonElement KeySpecsJson { get; }

    /// <summary>COMMAND DOCS fields (summary, since, group, complexity, arguments ...), or null.</summary>
    public JsonElement? Docs { get; }

    /// <summary>The container command of a subcommand, or null.</summary>
    public CommandInfo? Parent { get; }

    /// <summary>Subcommands by name (case-insensitive); empty for plain commands.</summary>
    public IReadOnlyDictionary<string, CommandInfo> Subcommands { get; }

    /// <summary>True for a container command such as CONFIG or CLIENT.</summary>
    public bool HasSubcommands => Subcommands.Count > 0;

    /// <summary>True when the argument count <paramref name="argc"/> (name included) satisfies the arity.</summary>
    public bool AcceptsArgumentCount(int argc) => Arity > 0 ? argc == Arity : argc >= -Arity;

    /// <summary>True when some key spec describes real keys (not NOT_KEY channels), like Redis's doesCommandHaveKeys.</summary>
    public bool HasKeys { get; }

    /// <summary>True when the key specs name real keys and none has variable flags: then they are used first.</summary>
    internal bool KeySpecsAreReliable { get; }

    /// <summary>
    /// Where the command's one key is when it has exactly one at a fixed place (GET, SET, INCR ...), else -1: cluster
    /// routing hashes it without searching the key specs.
    /// </summary>
    public int SingleKeyPosition { get; }

    /// <summary>The subcommand named <paramref name="name"/> (any case), or null.</summary>
    public CommandInfo? FindSubcommand(ReadOnlySpan<byte> name)
    {
        if (name.Length > 64)
        {
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        Encoding.Latin1.GetChars(name, chars);
        return _subcommandLookup.TryGetValue(chars, out var info) ? info : null;
    }

    private static KeySpec ParseKeySpec(JsonElement spec)
    {
        var flags = spec.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToArray();
        var begin = spec.GetProperty("begin_search");
        var find = spec.GetProperty("find_keys");
        var findKind = find.GetProperty("type").GetString() switch
        {
            "range" => FindKeysKind.Range,
            "keynum" => FindKeysKind.KeyNum,
            _ => FindKeysKind.Unknown,
        };
        var findSpec = find.GetProperty("spec");
        int Get(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetInt32() : 0;
        var beginSpec = begin.GetProperty("spec");
        var beginKind = begin.GetProperty("type").GetString();
        return new KeySpec
        {
            BeginSearch = beginKind switch
            {
                "index" => BeginSearchKind.Index,
                "keyword" => BeginSearchKind.Keyword,
                _ => BeginSearchKind.Unknown,
            },
            Position = beginKind == "keyword" ? Get(beginSpec, "startfrom") : Get(beginSpec, "index"),
            Keyword = beginKind == "keyword" ? Encoding.ASCII.GetBytes(beginSpec.GetProperty("keyword").GetString()!.ToUpperInvariant()) : [],
            FindKeys = findKind,
            LastKey = Get(findSpec, "lastkey"),
            KeyStep = findKind == FindKeysKind.Unknown ? 1 : Math.Max(1, Get(findSpec, "keystep")),
            Limit = Get(findSpec, "limit"),
            KeyNumIndex = Get(findSpec, "keynumidx"),
            FirstKey = Get(findSpec, "firstkey"),
            Flags = flags,
        };
    }
}
