using Tessera.Resp;
using CommandFlags = Tessera.Core.Commands.CommandFlags;

namespace Tessera.Server.Sessions;

/// <summary>Commands a script runs with redis.call, on behalf of the client that runs the script.</summary>
internal sealed partial class ClientSession
{
    private CommandContext? _scriptContext;

    /// <summary>
    /// Runs one redis.call from a script of this client, replying into <paramref name="reply"/>; returns the error
    /// Redis raises instead of running it (unknown command, wrong arity, not allowed from scripts), or null.
    /// </summary>
    public string? RunFromScript(byte[][] args, RespWriter reply, bool readOnly)
    {
        var command = _server.Commands.Find(args[0]);
        if (command is not null && command.Info.HasSubcommands && args.Length > 1)
        {
            command = command.FindSubcommand(args[1]);
        }
        if (command?.Handler is null)
        {
            return "ERR Unknown Redis command called from script";
        }
        if (!command.Info.AcceptsArgumentCount(args.Length))
        {
            return "ERR Wrong number of args calling Redis command from script";
        }
        if ((command.Info.Flags & CommandFlags.NoScript) != 0)
        {
            return "ERR This Redis command is not allowed from script";
        }
        var context = _scriptContext ??= new CommandContext(this, _server) { Reply = reply, DenyBlocking = true, Args = new Request() };
        if (ScriptPermissionError(command, args, context.Args) is { } denied)
        {
            return denied;
        }
        if ((command.Info.Flags & CommandFlags.Write) != 0 && (readOnly ? "ERR Write commands are not allowed from read-only scripts." : ReplicationRefusesWrite()) is { } refused)
        {
            return refused;
        }
        RunNested(context, command, args);
        return null;
    }
}
