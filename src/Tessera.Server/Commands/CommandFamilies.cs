namespace Tessera.Server.Commands;

/// <summary>Builds the dispatch table from every command family.</summary>
internal static class CommandFamilies
{
    /// <param name="scriptsIfStarted">The node's script engine once started (for the flags EVAL and FCALL declare).</param>
    public static CommandRegistry CreateRegistry(Func<Scripting.ScriptEngine?> scriptsIfStarted)
    {
        var registry = new CommandRegistry();
        ConnectionCommands.Register(registry);
        StringCommands.Register(registry);
        BitCommands.Register(registry);
        HashCommands.Register(registry);
        HyperLogLogCommands.Register(registry);
        ListCommands.Register(registry);
        SetCommands.Register(registry);
        SortedSetCommands.Register(registry);
        GeoCommands.Register(registry);
        KeyCommands.Register(registry);
        TransactionCommands.Register(registry);
        PubSubCommands.Register(registry);
        ScriptingCommands.Register(registry, scriptsIfStarted);
        SortCommand.Register(registry);
        ExpireCommands.Register(registry);
        ClientCommands.Register(registry);
        ConfigCommands.Register(registry);
        CommandCommands.Register(registry);
        InfoCommand.Register(registry);
        ServerCommands.Register(registry);
        DebugCommands.Register(registry);
        MemoryCommands.Register(registry);
        AclCommands.Register(registry);
        DumpCommands.Register(registry);
        MigrateCommand.Register(registry);
        ReplicationCommands.Register(registry);
        ClusterDisabledCommands.Register(registry);
        return registry;
    }
}
