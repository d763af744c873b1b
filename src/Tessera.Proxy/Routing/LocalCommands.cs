using System.Text;
using Tessera.Core.Commands;
using Tessera.Proxy.Networking;
using Tessera.Resp;

namespace Tessera.Proxy.Routing;

/// <summary>
/// The commands the proxy answers itself, as a Redis 7.0 server would where it can: PING, ECHO, QUIT, SELECT (only
/// database 0: the pool's redis_db is what backends use), AUTH against the pool's redis_auth, HELLO (RESP2 only:
/// replies pass through from RESP2 backends) and INFO about the proxy and the pool.
/// </summary>
internal static class LocalCommands
{
    public static void Answer(RequestRouter router, ClientConnection client, CommandInfo command)
    {
        var request = client.Request;
        var reply = router.Local(client);
        switch (command.Name)
        {
            case "ping":
                if (request.Count > 1)
                {
                    reply.WriteBulk(request[1]);
                }
                else
                {
                    reply.WriteSimpleString("PONG"u8);
                }
                break;
            case "echo":
                reply.WriteBulk(request[1]);
                break;
            case "quit":
                reply.WriteSimpleString("OK"u8);
                client.CloseAfterReplies = true;
                break;
            case "select":
                if (request[1].SequenceEqual("0"u8))
                {
                    reply.WriteSimpleString("OK"u8);
                }
                else
                {
                    reply.WriteError("ERR the proxy serves one database: only SELECT 0 is allowed");
                }
                break;
            case "auth":
                if (PasswordError(client, request[request.Count - 1]) is { } error)
                {
                    reply.WriteError(error);
                }
                else
                {
                    client.Authenticated = true;
                    reply.WriteSimpleString("OK"u8);
                }
                break;
            case "hello":
                Hello(client, reply, request);
                break;
            case "info":
                reply.WriteBulk(Info(client));
                break;
        }
    }

    /// <summary>Why <paramref name="password"/> does not open the pool (as Redis words it), or null when it does.</summary>
    private static string? PasswordError(ClientConnection client, ReadOnlySpan<byte> password)
    {
        var expected = client.Pool.Config.RedisAuth;
        if (expected.Length == 0)
        {
            return "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
        }
        return password.SequenceEqual(Encoding.UTF8.GetBytes(expected)) ? null : "WRONGPASS invalid username-password pair or user is disabled.";
    }

    private static void Hello(ClientConnection client, RespWriter reply, Request request)
    {
        if (request.Count > 1)
        {
            if (!RedisInteger.TryParse(request[1], out var version))
            {
                reply.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (version != 2)
            {
                reply.WriteError("NOPROTO sorry, this protocol version is not supported.");
                return;
            }
        }
        for (var i = 2; i < request.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(request[i], "AUTH"u8) && i + 2 < request.Count)
            {
                if (PasswordError(client, request[i + 2]) is { } error)
                {
                    reply.WriteError(error);
                    return;
                }
                client.Authenticated = true;
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(request[i], "SETNAME"u8) && i + 1 < request.Count)
            {
                i++;
            }
            else
            {
                reply.WriteError($"ERR Syntax error in HELLO option '{Encoding.Latin1.GetString(request[i])}'");
                return;
            }
        }
        if (!client.Authenticated)
        {
            reply.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        CommandReplies.WriteHello(reply, 2, client.Fd);
    }

    private static string Info(ClientConnection client)
    {
        var pool = client.Pool;
        var live = pool.LiveServers;
        var text = new StringBuilder();
        text.Append("# Server\r\n")
            .Append("redis_version:").Append(CommandReplies.RedisVersion).Append("\r\n")
            .Append("tessera_version:").Append(typeof(LocalCommands).Assembly.GetName().Version?.ToString(3)).Append("\r\n")
            .Append("redis_mode:proxy\r\n")
            .Append("process_id:").Append(Environment.ProcessId).Append("\r\n")
            .Append("uptime_in_seconds:").Append((long)(DateTime.UtcNow - System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime()).TotalSeconds).Append("\r\n")
            .Append("\r\n# Clients\r\n")
            .Append("connected_clients:").Append(Volatile.Read(ref pool.ClientCount)).Append("\r\n")
            .Append("\r\n# Pool\r\n")
            .Append("pool:").Append(pool.Name).Append("\r\n")
            .Append("servers:").Append(pool.Backends.Count).Append("\r\n")
            .Append("live_servers:").Append(live.Count).Append("\r\n");
        for (var i = 0; i < pool.Backends.Count; i++)
        {
            var backend = pool.Backends[i];
            text.Append("server").Append(i).Append(':').Append(backend.Config.Address)
                .Append(",name=").Append(backend.Config.Name)
                .Append(",live=").Append(live.Contains(i) ? 1 : 0).Append("\r\n");
        }
        return text.ToString();
    }
}
