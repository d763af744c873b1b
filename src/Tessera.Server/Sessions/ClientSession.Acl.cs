using System.Text;
using Tessera.Resp;
using Tessera.Server.Acl;
using Tessera.Server.Commands;

namespace Tessera.Server.Sessions;

/// <summary>ACL permission checks for the session's commands, and ACL LOG entries for its denials.</summary>
internal sealed partial class ClientSession
{
    /// <summary>The ACL step of the pipeline (Redis's processCommand): null when the user may run the command, else the -NOPERM error.</summary>
    private string? PermissionError(ServerCommand command, Request args)
        => CheckPermission(command, args, (Flags & ClientFlags.Multi) != 0 ? AclContext.Multi : AclContext.TopLevel) switch
        {
            AclDenial.None => null,
            AclDenial.Command => $"NOPERM this user has no permissions to run the '{command.Info.FullName}' command",
            AclDenial.Key => "NOPERM this user has no permissions to access one of the keys used as arguments",
            _ => "NOPERM this user has no permissions to access one of the channels used as arguments",
        };

    /// <summary>The ACL check of <c>redis.call</c> (Redis's scriptVerifyACL): null, or the error the script gets.</summary>
    private string? ScriptPermissionError(ServerCommand command, byte[][] args, Request scratch)
    {
        if (User.Unrestricted)
        {
            return null;
        }
        scratch.Set(args);
        return CheckPermission(command, scratch, AclContext.Lua) switch
        {
            AclDenial.None => null,
            AclDenial.Command => "ERR The user executing the script can't run this command or subcommand",
            AclDenial.Key => "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
            _ => "ERR The user executing the script can't publish to the channel mentioned in the command",
        };
    }

    /// <summary>
    /// EXEC checks each queued command again, in case the user's permissions changed since it was queued
    /// (Redis's execCommand): null, or the error that takes the command's place in EXEC's reply.
    /// </summary>
    private string? QueuedPermissionError(ServerCommand command, byte[][] args, Request scratch)
    {
        if (User.Unrestricted)
        {
            return null;
        }
        scratch.Set(args);
        var reason = CheckPermission(command, scratch, AclContext.Multi) switch
        {
            AclDenial.None => null,
            AclDenial.Command => "no permission to execute the command or subcommand",
            AclDenial.Key => "no permission to touch the specified keys",
            _ => "no permission to access one of the channels used as arguments",
        };
        return reason is null ? null : "NOPERM ACLs rules changed between the moment the transaction was accumulated and its execution. The user can no longer execute this command: " + reason;
    }

    /// <summary>Checks the session's user against the command; a denial is logged in the ACL LOG with the command's name, or the key or channel refused.</summary>
    private AclDenial CheckPermission(ServerCommand command, Request args, AclContext context)
    {
        if (User.Unrestricted)
        {
            return AclDenial.None;
        }
        var denial = _server.Acl.Check(User, command.Info, args, out var position);
        if (denial != AclDenial.None)
        {
            LogAclDenial(denial, denial == AclDenial.Command ? command.Info.FullName : Encoding.Latin1.GetString(args[position]), User.Name, context);
        }
        return denial;
    }

    /// <summary>Adds an ACL LOG entry for a failed AUTH (or HELLO AUTH) as <paramref name="user"/>.</summary>
    public void LogAclDenial(AclDenial denial, string subject, string user)
        => LogAclDenial(denial, subject, user, (Flags & ClientFlags.Multi) != 0 ? AclContext.Multi : AclContext.TopLevel);

    private void LogAclDenial(AclDenial denial, string subject, string user, AclContext context)
    {
        var entry = new AclLogEntry(denial, context, subject, user)
        {
            TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ClientInfo = ClientCommands.Describe(_server, this),
        };
        _server.Acl.Log.Add(entry, _server.Config.AclLogMaxLen.Value);
    }
}
