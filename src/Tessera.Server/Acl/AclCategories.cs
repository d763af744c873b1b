using Tessera.Core.Commands;

namespace Tessera.Server.Acl;

/// <summary>
/// The ACL command categories in Redis's order (ACL CAT lists them so, and rule descriptions try them so), and
/// each command's categories as a bit mask, read from the command table.
/// </summary>
internal static class AclCategories
{
    public static readonly string[] Names =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
        "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    private static readonly Lazy<ulong[]> Masks = new(BuildMasks);

    /// <summary>The bit of category <paramref name="name"/> (any case, without '@'), or 0 for an unknown one.</summary>
    public static ulong Find(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (name.Equals(Names[i], StringComparison.OrdinalIgnoreCase))
            {
                return 1UL << i;
            }
        }
        return 0;
    }

    /// <summary>The categories of <paramref name="command"/> (a command or subcommand of Redis's table).</summary>
    public static ulong Of(CommandInfo command) => Masks.Value[command.Index];

    /// <summary>Every command and subcommand of Redis's table, each container followed by its subcommands.</summary>
    public static IReadOnlyList<CommandInfo> AllCommands => Commands.Value;

    private static readonly Lazy<CommandInfo[]> Commands = new(() =>
        [.. CommandTable.Redis.All.SelectMany(c => c.Subcommands.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Prepend(c))]);

    private static ulong[] BuildMasks()
    {
        var masks = new ulong[CommandTable.Redis.IndexCount];
        foreach (var command in AllCommands)
        {
            foreach (var category in command.AclCategories)
            {
                masks[command.Index] |= Find(category.AsSpan(1));
            }
        }
        return masks;
    }
}
