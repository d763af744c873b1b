using Tessera.Resp;
using Tessera.Server.Acl;
using Tessera.Server.Commands;
using Tessera.Server.Scripting;
using CommandFlags = Tessera.Core.Commands.CommandFlags;

namespace Tessera.Server.Sessions;

/// <summary>Commands a script runs with redis.call, on behalf of the client that runs the script.</summary>
internal sealed partial class ClientSession
{
    private CommandContext? _scriptContext;

    /// <summary>
    /// Runs one redis.call from a script of this client, replying into <paramref name="reply"/>; returns the error
    /// Redis raises instead of running it (unknown command, wrong arity, not allowed from scripts, ACL, writes,
    /// memory), or null. A refusal counts in the error statistics and as the command's rejected call, as Redis's
    /// scriptCall counts it.
    /// </summary>
    public string? RunFromScript(byte[][] args, RespWriter reply, bool readOnly, bool denyOom)
    {
        var command = FindScriptCommand(args);
        if (ScriptCallRefusal(command, args, reply, readOnly, denyOom) is { } refusal)
        {
            _server.Stats.CountError(refusal[..refusal.IndexOf(' ')]);
            if (command is not null)
            {
                command.RejectedCalls++;
            }
            return refusal;
        }
        RunNested(_scriptContext!, command!, args);
        return null;
    }

    private string? ScriptCallRefusal(ServerCommand? command, byte[][] args, RespWriter reply, bool readOnly, bool denyOom)
    {
        if (command?.Handler is null)
        {
            return "ERR Unknown Redis command called from script";
        }
        if (!command.Info.AcceptsArgumentCount(args.Length))
        {
            return "ERR Wrong number of args calling Redis command from script";
        }
        if ((command.Info.Flags & CommandFlags.NoScript) != 0 && !_server.Debug.AllowNoScriptCommands)
        {
            return "ERR This Redis command is not allowed from script";
        }
        var context = _scriptContext ??= new CommandContext(this, _server) { Reply = reply, DenyBlocking = true, FromScript = true, Args = new Request() };
        if (ScriptPermissionError(command, args, context.Args) is { } denied)
        {
            return denied;
        }
        // A command that may replicate (PUBLISH) counts as a write for a read-only script, as in Redis: such a
        // script may then run during CLIENT PAUSE WRITE.
        if (readOnly && (command.Info.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0)
        {
            return "ERR Write commands are not allowed from read-only scripts.";
        }
        if ((command.Info.Flags & CommandFlags.Write) != 0 && ReplicationRefusesWrite() is { } refused)
        {
            return refused;
        }
        if (denyOom && (command.Info.Flags & CommandFlags.DenyOom) != 0)
        {
            return "OOM command not allowed when used memory > 'maxmemory'.";
        }
        return null;
    }

    /// <summary>
    /// Redis's scriptPrepareForRun: why a script that declared <paramref name="flags"/> may not run for this client
    /// now, or null. <paramref name="readOnlyCommand"/> for EVAL_RO, EVALSHA_RO and FCALL_RO.
    /// </summary>
    public string? ScriptRunRefusal(ScriptFlags flags, bool readOnlyCommand)
    {
        var link = _server.Replication.Link;
        var stale = link is { State: not Replication.MasterLinkState.Connected } && !_server.Config.ReplicaServeStaleData.Value;
        if ((flags & ScriptFlags.EvalCompatibility) != 0)
        {
            return stale ? "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." : null;
        }
        if ((flags & ScriptFlags.NoCluster) != 0 && _server.Cluster is not null)
        {
            return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
        }
        if (stale && (flags & ScriptFlags.AllowStale) == 0)
        {
            return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.";
        }
        if ((flags & ScriptFlags.NoWrites) == 0)
        {
            if (link is not null && _server.Config.ReplicaReadOnly.Value && (Flags & ClientFlags.Master) == 0)
            {
                return "READONLY Can not run script with write flag on readonly replica";
            }
            if (readOnlyCommand)
            {
                return "ERR Can not execute a script with write flag using *_ro command.";
            }
            if (link is null && !_server.Replication.EnoughGoodReplicas)
            {
                return "NOREPLICAS Not enough good replicas to write.";
            }
        }
        if (PreCommandOom && (flags & (ScriptFlags.AllowOom | ScriptFlags.NoWrites)) == 0)
        {
            return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
        }
        return null;
    }

    /// <summary>
    /// redis.acl_check_cmd: whether this session's user may run <paramref name="args"/> (nothing is logged); null
    /// when there is no such command.
    /// </summary>
    public bool? MayRunFromScript(byte[][] args)
    {
        if (FindScriptCommand(args) is not { } command)
        {
            return null;
        }
        if (User.Unrestricted)
        {
            return true;
        }
        var request = new Request();
        request.Set(args);
        return _server.Acl.Check(User, command.Info, request, out _) == AclDenial.None;
    }

    /// <summary>The command (or subcommand, for a command that has them) <paramref name="args"/> name, or null.</summary>
    private ServerCommand? FindScriptCommand(byte[][] args)
    {
        var command = _server.Commands.Find(args[0]);
        return command is not null && command.Info.HasSubcommands && args.Length > 1 ? command.FindSubcommand(args[1]) : command;
    }
}
