using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>CLIENT subcommands: ID, SETNAME/GETNAME, LIST/INFO, KILL, PAUSE/UNPAUSE, REPLY, NO-EVICT; tracking in ClientCommands.Tracking.cs.</summary>
internal static partial class ClientCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("client|id", c => c.Reply.WriteInteger(c.Session.Id));
        r.Add("client|setname", SetName);
        r.Add("client|getname", GetName);
        r.Add("client|list", List);
        r.Add("client|info", c => c.Reply.WriteVerbatim(Encoding.UTF8.GetBytes(Describe(c.Server, c.Session) + "\n")));
        r.Add("client|kill", Kill);
        r.Add("client|pause", Pause);
        r.Add("client|unpause", c =>
        {
            c.Server.ClientPause.Unpause();
            c.Reply.WriteLiteral(Replies.Ok);
        });
        r.Add("client|reply", Reply);
        r.Add("client|no-evict", NoEvict);
        r.Add("client|unblock", Unblock);
        RegisterTracking(r);
        r.Add("client|help", ClientHelp);
    }

    /// <summary>Client names may not contain spaces, newlines or other characters outside '!'..'~'.</summary>
    internal static bool IsValidName(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (b < '!' || b > '~')
            {
                return false;
            }
        }
        return true;
    }

    private static void SetName(CommandContext c)
    {
        var name = c.Arg(2);
        if (!IsValidName(name))
        {
            c.Error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        c.Session.Name = name.IsEmpty ? null : name.ToArray();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void GetName(CommandContext c)
    {
        if (c.Session.Name is null)
        {
            c.Reply.WriteNullBulk();
        }
        else
        {
            c.Reply.WriteBulk(c.Session.Name);
        }
    }

    /// <summary>One CLIENT LIST line, with Redis 7.0's fields in its order.</summary>
    internal static string Describe(TesseraServer server, ClientSession s)
    {
        var now = Environment.TickCount64;
        var flags = new StringBuilder();
        if ((s.Flags & ClientFlags.Monitor) != 0)
        {
            flags.Append('O');
        }
        if (s.InPubSubMode)
        {
            flags.Append('P');
        }
        if ((s.Flags & ClientFlags.Multi) != 0)
        {
            flags.Append('x');
        }
        // A client held by CLIENT PAUSE is blocked too for Redis (BLOCKED_POSTPONE).
        if ((s.Flags & (ClientFlags.Blocked | ClientFlags.Paused)) != 0)
        {
            flags.Append('b');
        }
        if (s.Tracking is { } tracking)
        {
            flags.Append(TrackingListFlags(tracking.Flags));
        }
        if ((s.Flags & ClientFlags.DirtyCas) != 0)
        {
            flags.Append('d');
        }
        if ((s.Flags & ClientFlags.CloseAfterReply) != 0)
        {
            flags.Append('c');
        }
        if ((s.Flags & ClientFlags.UnixSocket) != 0)
        {
            flags.Append('U');
        }
        if ((s.Flags & ClientFlags.NoEvict) != 0)
        {
            flags.Append('e');
        }
        if (flags.Length == 0)
        {
            flags.Append('N');
        }
        var output = s.Output.Length + s.RemoteOutputLength;
        var events = s.Transport?.WaitingToWrite == true ? "rw" : "r";
        var cmd = s.LastCommand?.Info.FullName ?? "NULL";
        var name = s.Name is null ? "" : Encoding.UTF8.GetString(s.Name);
        var queryBuffer = s.PendingInput;
        var queryFree = s.InputCapacity - queryBuffer;
        var totalMemory = s.InputCapacity + output + 1024;
        return $"id={s.Id} addr={s.RemoteAddress} laddr={s.LocalAddress} fd={s.Transport?.Fd ?? -1} name={name} " +
            $"age={(now - s.CreatedMs) / 1000} idle={(now - s.LastInteractionMs) / 1000} flags={flags} db={s.DbIndex} " +
            $"sub={s.Subscriptions(SubscriptionKind.Channel).Count} psub={s.Subscriptions(SubscriptionKind.Pattern).Count} ssub={s.Subscriptions(SubscriptionKind.ShardChannel).Count} multi={s.QueuedCommands} qbuf={queryBuffer} qbuf-free={queryFree} argv-mem=0 multi-mem=0 " +
            $"rbs={(output > 0 ? Resp.OutputBuffer.ChunkSize : 0)} rbp=0 obl={Math.Min(output, Resp.OutputBuffer.ChunkSize)} " +
            $"oll={Math.Max(0, (output - 1) / Resp.OutputBuffer.ChunkSize)} omem={output} tot-mem={totalMemory} events={events} " +
            $"cmd={cmd} user={s.User.Name} redir={(s.Tracking is { IsOn: true } t ? t.Redirect : -1)} resp={s.Protocol}";
    }

    private static void List(CommandContext c)
    {
        IEnumerable<ClientSession> clients = c.Server.Clients.All;
        if (c.ArgCount == 4 && c.ArgIs(2, "type"u8))
        {
            var type = c.Arg(3);
            if (!IsClientType(type))
            {
                c.Error($"ERR Unknown client type '{CommandReplies.Truncated(type, int.MaxValue)}'");
                return;
            }
            var wanted = type.ToArray();
            clients = [.. clients.Where(s => IsOfType(s, wanted))];
        }
        else if (c.ArgCount > 3 && c.ArgIs(2, "id"u8))
        {
            var ids = new HashSet<long>();
            for (var i = 3; i < c.ArgCount; i++)
            {
                if (!RedisInteger.TryParse(c.Arg(i), out var id) || id <= 0)
                {
                    c.Error("ERR Invalid client ID");
                    return;
                }
                ids.Add(id);
            }
            clients = clients.Where(s => ids.Contains(s.Id));
        }
        else if (c.ArgCount != 2)
        {
            c.SyntaxError();
            return;
        }
        var text = new StringBuilder();
        foreach (var session in clients)
        {
            text.Append(Describe(c.Server, session)).Append('\n');
        }
        c.Reply.WriteVerbatim(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static bool IsClientType(ReadOnlySpan<byte> type)
        => Ascii.EqualsIgnoreCase(type, "normal"u8) || Ascii.EqualsIgnoreCase(type, "master"u8)
            || Ascii.EqualsIgnoreCase(type, "replica"u8) || Ascii.EqualsIgnoreCase(type, "slave"u8)
            || Ascii.EqualsIgnoreCase(type, "pubsub"u8);

    /// <summary>
    /// Redis's getClientType: a replica of this node, a client in RESP2 subscribe mode, or normal (this node has
    /// no master link, so never "master").
    /// </summary>
    private static bool IsOfType(ClientSession session, ReadOnlySpan<byte> type)
    {
        var actual = (session.Flags & ClientFlags.Replica) != 0 ? "replica"u8
            : session.InPubSubMode && session.Protocol == 2 ? "pubsub"u8 : "normal"u8;
        return Ascii.EqualsIgnoreCase(type, actual) || (Ascii.EqualsIgnoreCase(type, "slave"u8) && actual.SequenceEqual("replica"u8));
    }

    private static void Kill(CommandContext c)
    {
        var self = c.Session;
        if (c.ArgCount == 3)
        {
            // Old form: CLIENT KILL addr.
            var address = Encoding.UTF8.GetString(c.Arg(2));
            var target = c.Server.Clients.All.FirstOrDefault(s => s.RemoteAddress == address);
            if (target is null)
            {
                c.Error("ERR No such client");
                return;
            }
            c.Reply.WriteLiteral(Replies.Ok);
            Disconnect(target, self);
            return;
        }
        if ((c.ArgCount - 2) % 2 != 0)
        {
            c.SyntaxError();
            return;
        }
        long? id = null;
        string? addr = null;
        string? laddr = null;
        string? user = null;
        byte[]? type = null;
        var skipMe = true;
        for (var i = 2; i < c.ArgCount; i += 2)
        {
            var value = c.Arg(i + 1);
            if (c.ArgIs(i, "id"u8))
            {
                if (!RedisInteger.TryParse(value, out var parsed) || parsed <= 0)
                {
                    c.Error("ERR client-id should be greater than 0");
                    return;
                }
                id = parsed;
            }
            else if (c.ArgIs(i, "type"u8))
            {
                if (!IsClientType(value))
                {
                    c.Error($"ERR Unknown client type '{CommandReplies.Truncated(value, int.MaxValue)}'");
                    return;
                }
                type = value.ToArray();
            }
            else if (c.ArgIs(i, "addr"u8))
            {
                addr = Encoding.UTF8.GetString(value);
            }
            else if (c.ArgIs(i, "laddr"u8))
            {
                laddr = Encoding.UTF8.GetString(value);
            }
            else if (c.ArgIs(i, "user"u8))
            {
                user = Encoding.UTF8.GetString(value);
                if (user != "default")
                {
                    c.Error($"ERR No such user '{user}'");
                    return;
                }
            }
            else if (c.ArgIs(i, "skipme"u8))
            {
                if (Ascii.EqualsIgnoreCase(value, "yes"u8))
                {
                    skipMe = true;
                }
                else if (Ascii.EqualsIgnoreCase(value, "no"u8))
                {
                    skipMe = false;
                }
                else
                {
                    c.SyntaxError();
                    return;
                }
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        var victims = c.Server.Clients.All.Where(s =>
            (type is null || IsOfType(s, type)) && (id is null || s.Id == id) && (addr is null || s.RemoteAddress == addr)
            && (laddr is null || s.LocalAddress == laddr) && (user is null || s.User.Name == user)
            && !(skipMe && s == self)).ToList();
        c.Reply.WriteInteger(victims.Count);
        foreach (var victim in victims)
        {
            Disconnect(victim, self);
        }
    }

    /// <summary>Closes a killed client: itself after this reply, another one right away.</summary>
    internal static void Disconnect(ClientSession target, ClientSession self)
    {
        if (target == self)
        {
            target.Flags |= ClientFlags.CloseAfterReply;
        }
        else
        {
            target.Transport?.Close();
        }
    }

    private static void Pause(CommandContext c)
    {
        if (!RedisInteger.TryParse(c.Arg(2), out var timeout))
        {
            c.Error(Replies.TimeoutInvalid);
            return;
        }
        if (timeout < 0)
        {
            c.Error("ERR timeout is negative");
            return;
        }
        var all = true;
        if (c.ArgCount == 4)
        {
            if (c.ArgIs(3, "write"u8))
            {
                all = false;
            }
            else if (!c.ArgIs(3, "all"u8))
            {
                c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        else if (c.ArgCount > 4)
        {
            c.SyntaxError();
            return;
        }
        c.Server.ClientPause.Pause(all, Environment.TickCount64 + timeout);
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Reply(CommandContext c)
    {
        var session = c.Session;
        if (c.ArgIs(2, "on"u8))
        {
            session.Flags &= ~(ClientFlags.ReplyOff | ClientFlags.ReplySkip | ClientFlags.ReplySkipNext);
            c.Reply.WriteLiteral(Replies.Ok);
        }
        else if (c.ArgIs(2, "off"u8))
        {
            session.Flags |= ClientFlags.ReplyOff;
        }
        else if (c.ArgIs(2, "skip"u8))
        {
            if ((session.Flags & ClientFlags.ReplyOff) == 0)
            {
                session.Flags |= ClientFlags.ReplySkipNext;
            }
        }
        else
        {
            c.SyntaxError();
        }
    }

    private static void NoEvict(CommandContext c)
    {
        if (c.ArgIs(2, "on"u8))
        {
            c.Session.Flags |= ClientFlags.NoEvict;
        }
        else if (c.ArgIs(2, "off"u8))
        {
            c.Session.Flags &= ~ClientFlags.NoEvict;
        }
        else
        {
            c.SyntaxError();
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Unblock(CommandContext c)
    {
        if (!c.TryGetLong(2, out var id))
        {
            return;
        }
        var withError = c.ArgCount == 4 && c.ArgIs(3, "error"u8);
        if (c.ArgCount == 4 && !withError && !c.ArgIs(3, "timeout"u8))
        {
            c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
        c.Reply.WriteInteger(c.Server.Blocking.Unblock(id, withError) || c.Server.Replication.UnblockWait(id, withError) ? 1 : 0);
    }

    private static void ClientHelp(CommandContext c) => Help.Write(c,
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.");
}
