using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO.</summary>
internal static class ConnectionCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("ping", Ping);
        r.Add("echo", c => c.Reply.WriteBulk(c.Arg(1)));
        r.Add("quit", Quit);
        r.Add("reset", Reset);
        r.Add("auth", Auth);
        r.Add("hello", Hello);
        // These touch only the client's own state (and the ACL, which cannot change meanwhile).
        r.AddWhileBusy("quit");
        r.AddWhileBusy("auth");
        r.AddWhileBusy("hello");
    }

    private static void Ping(CommandContext c)
    {
        if (c.ArgCount > 2)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        if (c.Session.Protocol == 2 && c.Session.InPubSubMode)
        {
            // A subscribed RESP2 client reads everything as push-like arrays, so PING answers in one too.
            c.Reply.WriteArrayHeader(2);
            c.Reply.WriteBulk("pong"u8);
            c.Reply.WriteBulk(c.ArgCount == 1 ? [] : c.Arg(1));
        }
        else if (c.ArgCount == 1)
        {
            c.Reply.WriteLiteral(Replies.Pong);
        }
        else
        {
            c.Reply.WriteBulk(c.Arg(1));
        }
    }

    private static void Quit(CommandContext c)
    {
        c.Reply.WriteLiteral(Replies.Ok);
        c.Session.Flags |= ClientFlags.CloseAfterReply;
    }

    private static void Reset(CommandContext c)
    {
        c.Session.Reset();
        c.Reply.WriteLiteral("+RESET\r\n"u8);
    }

    private static void Auth(CommandContext c)
    {
        if (c.ArgCount > 3)
        {
            c.SyntaxError();
            return;
        }
        if (c.ArgCount == 2 && c.Server.Acl.Default.NoPass)
        {
            c.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        var user = c.ArgCount == 3 ? c.Arg(1) : "default"u8;
        var password = c.Arg(c.ArgCount - 1);
        if (TryAuthenticate(c, user, password))
        {
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else
        {
            c.Error("WRONGPASS invalid username-password pair or user is disabled.");
        }
    }

    /// <summary>
    /// Checks credentials against the ACL users (Redis's ACLAuthenticateUser); a failure is logged in the ACL LOG
    /// under the name given.
    /// </summary>
    private static bool TryAuthenticate(CommandContext c, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        var name = Encoding.Latin1.GetString(user);
        var found = c.Server.Acl.Authenticate(name, password);
        if (found is null)
        {
            c.Session.LogAclDenial(Acl.AclDenial.Auth, Encoding.Latin1.GetString(c.Arg(0)), name);
            return false;
        }
        c.Session.Authenticate(found);
        return true;
    }

    private static void Hello(CommandContext c)
    {
        long version = 0;
        var next = 1;
        if (c.ArgCount >= 2)
        {
            if (!RedisInteger.TryParse(c.Arg(next++), out version))
            {
                c.Error("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (version is < 2 or > 3)
            {
                c.Error("NOPROTO unsupported protocol version");
                return;
            }
        }
        var authAt = -1;
        var nameAt = -1;
        for (var j = next; j < c.ArgCount; j++)
        {
            var more = c.ArgCount - 1 - j;
            if (c.ArgIs(j, "auth"u8) && more >= 2)
            {
                authAt = j + 1;
                j += 2;
            }
            else if (c.ArgIs(j, "setname"u8) && more >= 1)
            {
                nameAt = j + 1;
                if (!ClientCommands.IsValidName(c.Arg(nameAt)))
                {
                    c.Error("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
                j++;
            }
            else
            {
                c.Error($"ERR Syntax error in HELLO option '{CommandReplies.Truncated(c.Arg(j), int.MaxValue)}'");
                return;
            }
        }
        if (authAt > 0 && !TryAuthenticate(c, c.Arg(authAt), c.Arg(authAt + 1)))
        {
            c.Error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        if (!c.Session.Authenticated)
        {
            c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (nameAt > 0)
        {
            c.Session.Name = c.Arg(nameAt).IsEmpty ? null : c.Arg(nameAt).ToArray();
        }
        if (version != 0)
        {
            c.Session.Protocol = (int)version;
        }
        CommandReplies.WriteHello(c.Reply, c.Session.Protocol, c.Session.Id);
    }
}
