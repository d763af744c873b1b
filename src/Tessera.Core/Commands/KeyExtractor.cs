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
            foreach (var spec in command.KeySpecs)
            {
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
}
