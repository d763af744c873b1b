using Tessera.Resp;

namespace Tessera.Core.Commands;

/// <summary>
/// Finds the keys of a command instance, as Redis's <c>getKeysFromCommandWithSpecs</c> does: key specs first when
/// they are reliable, otherwise the command's own key finder. Serves COMMAND GETKEYS, cluster slot checks and proxy
/// routing.
/// </summary>
public static class KeyExtractor
{
    /// <summary>
    /// Adds the positions (relative to <paramref name="offset"/>; 0 is the command name) of the keys of the command in
    /// <c>args[offset..]</c> to <paramref name="keys"/>; returns how many were found (0 when the arguments are invalid).
    /// </summary>
    public static int GetKeys(CommandInfo command, Request args, int offset, List<int> keys)
    {
        if (command.KeySpecsAreReliable)
        {
            var before = keys.Count;
            var valid = true;
            // By index: a foreach over the interface would allocate an enumerator per command (routing is a hot path).
            var specs = command.KeySpecs;
            for (var i = 0; i < specs.Count; i++)
            {
                var spec = specs[i];
                if (!spec.NotKey && !spec.AddKeys(args, offset, keys))
                {
                    valid = false;
                    break;
                }
            }
            if (valid)
            {
                return keys.Count - before;
            }
            keys.RemoveRange(before, keys.Count - before);
        }
        if (NativeKeyFinder.Has(command))
        {
            return Math.Max(0, NativeKeyFinder.Find(command, args, offset, keys));
        }
        return 0;
    }

    /// <summary>
    /// The flags (RO, RW, OW, RM, access, update, insert, delete ...) of the key at <paramref name="position"/> of
    /// the command in <c>args[offset..]</c>: those of the key spec that yields it, or those the command decides
    /// from its options (SET ... GET, BITFIELD).
    /// </summary>
    public static IReadOnlyList<string> FlagsOf(CommandInfo command, Request args, int offset, int position)
    {
        if ((NativeKeyFinder.VariableFlags(command, args, offset) ?? NativeKeyFinder.FinderFlags(command, position)) is { } decided)
        {
            return decided;
        }
        var found = new List<int>();
        foreach (var spec in command.KeySpecs)
        {
            found.Clear();
            if (spec.AddKeys(args, offset, found) && found.Contains(position))
            {
                return spec.Flags;
            }
        }
        return command.KeySpecs.FirstOrDefault()?.Flags ?? [];
    }
}
