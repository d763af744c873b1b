namespace Tessera.Core.Commands;

/// <summary>Command flags as Redis 7.0 lists them in COMMAND INFO.</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Admin = 1 << 3,
    PubSub = 1 << 4,
    NoScript = 1 << 5,
    Blocking = 1 << 6,
    Loading = 1 << 7,
    Stale = 1 << 8,
    SkipMonitor = 1 << 9,
    SkipSlowlog = 1 << 10,
    Asking = 1 << 11,
    Fast = 1 << 12,
    NoAuth = 1 << 13,
    MayReplicate = 1 << 14,
    NoMandatoryKeys = 1 << 15,
    NoAsyncLoading = 1 << 16,
    NoMulti = 1 << 17,
    MovableKeys = 1 << 18,
    AllowBusy = 1 << 19,

    /// <summary>
    /// Internal (not in COMMAND INFO): the command may touch keys it was not given, as SCAN and RANDOMKEY expiring
    /// keys lazily; what it propagates is not wrapped in MULTI/EXEC (Redis's CMD_TOUCHES_ARBITRARY_KEYS).
    /// </summary>
    TouchesArbitraryKeys = 1 << 20,

    /// <summary>Internal: runs only as enable-debug-command / enable-module-command allow (Redis's CMD_PROTECTED).</summary>
    Protected = 1 << 21,

    /// <summary>Internal: one of the transaction's own commands, run at once inside MULTI instead of being queued.</summary>
    TransactionControl = 1 << 22,

    /// <summary>Internal: allowed to a RESP2 client in subscribe mode.</summary>
    SubscribeContext = 1 << 23,
}

/// <summary>Maps the flag names of the command table to <see cref="CommandFlags"/>.</summary>
public static class CommandFlagNames
{
    /// <summary>The flag for a COMMAND INFO flag name; throws on a name the table should not contain.</summary>
    public static CommandFlags Parse(string name) => name switch
    {
        "write" => CommandFlags.Write,
        "readonly" => CommandFlags.ReadOnly,
        "denyoom" => CommandFlags.DenyOom,
        "admin" => CommandFlags.Admin,
        "pubsub" => CommandFlags.PubSub,
        "noscript" => CommandFlags.NoScript,
        "blocking" => CommandFlags.Blocking,
        "loading" => CommandFlags.Loading,
        "stale" => CommandFlags.Stale,
        "skip_monitor" => CommandFlags.SkipMonitor,
        "skip_slowlog" => CommandFlags.SkipSlowlog,
        "asking" => CommandFlags.Asking,
        "fast" => CommandFlags.Fast,
        "no_auth" => CommandFlags.NoAuth,
        "may_replicate" => CommandFlags.MayReplicate,
        "no_mandatory_keys" => CommandFlags.NoMandatoryKeys,
        "no_async_loading" => CommandFlags.NoAsyncLoading,
        "no_multi" => CommandFlags.NoMulti,
        "movablekeys" => CommandFlags.MovableKeys,
        "allow_busy" => CommandFlags.AllowBusy,
        "touches_arbitrary_keys" => CommandFlags.TouchesArbitraryKeys,
        "protected" => CommandFlags.Protected,
        "transaction_control" => CommandFlags.TransactionControl,
        "subscribe_context" => CommandFlags.SubscribeContext,
        _ => throw new InvalidDataException("unknown command flag '" + name + "' in the command table"),
    };
}
