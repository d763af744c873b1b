using Tessera.Core.Commands;

namespace Tessera.Proxy.Routing;

/// <summary>What the proxy does with a command.</summary>
public enum RouteKind
{
    /// <summary>To the backend of its keys (all keys must go to one backend).</summary>
    ByKeys,

    /// <summary>Split by backend and merged (MGET, MSET, DEL, UNLINK, TOUCH, EXISTS).</summary>
    Fragmented,

    /// <summary>Sent to every live backend and merged (KEYS, DBSIZE, FLUSHALL, FLUSHDB, SCRIPT LOAD ...).</summary>
    FanOut,

    /// <summary>SCAN over every backend in turn, with a cursor that says which.</summary>
    Scan,

    /// <summary>To any live backend (COMMAND: the same answer everywhere).</summary>
    AnyBackend,

    /// <summary>Answered by the proxy itself.</summary>
    Local,

    /// <summary>Refused with an error; the connection stays open.</summary>
    Unsupported,
}

/// <summary>A command's route and, for split or fanned-out commands, how replies merge and how keys are grouped.</summary>
public readonly record struct CommandRoute(RouteKind Kind, ReplyMerge Merge = ReplyMerge.Pass, int KeyStep = 1)
{
    private static readonly Dictionary<string, CommandRoute> Special = new()
    {
        ["mget"] = new(RouteKind.Fragmented, ReplyMerge.KeysInOrder),
        ["mset"] = new(RouteKind.Fragmented, ReplyMerge.AllOk, KeyStep: 2),
        ["del"] = new(RouteKind.Fragmented, ReplyMerge.Sum),
        ["unlink"] = new(RouteKind.Fragmented, ReplyMerge.Sum),
        ["touch"] = new(RouteKind.Fragmented, ReplyMerge.Sum),
        ["exists"] = new(RouteKind.Fragmented, ReplyMerge.Sum),
        ["keys"] = new(RouteKind.FanOut, ReplyMerge.Concatenate),
        ["dbsize"] = new(RouteKind.FanOut, ReplyMerge.Sum),
        ["flushall"] = new(RouteKind.FanOut, ReplyMerge.AllOk),
        ["flushdb"] = new(RouteKind.FanOut, ReplyMerge.AllOk),
        ["script|load"] = new(RouteKind.FanOut, ReplyMerge.Same),
        ["script|exists"] = new(RouteKind.FanOut, ReplyMerge.Same),
        ["script|flush"] = new(RouteKind.FanOut, ReplyMerge.AllOk),
        ["scan"] = new(RouteKind.Scan),
        ["command"] = new(RouteKind.AnyBackend),
        ["command|count"] = new(RouteKind.AnyBackend),
        ["command|info"] = new(RouteKind.AnyBackend),
        ["command|docs"] = new(RouteKind.AnyBackend),
        ["command|getkeys"] = new(RouteKind.AnyBackend),
        ["command|list"] = new(RouteKind.AnyBackend),
        ["ping"] = new(RouteKind.Local),
        ["echo"] = new(RouteKind.Local),
        ["quit"] = new(RouteKind.Local),
        ["select"] = new(RouteKind.Local),
        ["auth"] = new(RouteKind.Local),
        ["hello"] = new(RouteKind.Local),
        ["info"] = new(RouteKind.Local),
        ["publish"] = new(RouteKind.ByKeys),
    };

    /// <summary>
    /// The route of <paramref name="command"/>: its entry above, else by its keys when it has keys and can share a
    /// backend connection with other clients (not blocking, not a transaction or subscription), else refused.
    /// </summary>
    public static CommandRoute Of(CommandInfo command)
    {
        if (Special.TryGetValue(command.FullName, out var route))
        {
            return route;
        }
        var refused = CommandFlags.Blocking | CommandFlags.PubSub | CommandFlags.NoMulti;
        return command.HasKeys && (command.Flags & refused) == 0 && command.Name is not ("watch" or "unwatch")
            ? new CommandRoute(RouteKind.ByKeys)
            : new CommandRoute(RouteKind.Unsupported);
    }
}
