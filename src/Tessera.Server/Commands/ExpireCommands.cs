using Tessera.Core.Commands;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>Key expiry (Redis's expire.c): EXPIRE family with NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PERSIST.</summary>
internal static class ExpireCommands
{
    [Flags]
    private enum ExpireFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }

    public static void Register(CommandRegistry r)
    {
        r.Add("expire", c => Expire(c, relative: true, seconds: true));
        r.Add("pexpire", c => Expire(c, relative: true, seconds: false));
        r.Add("expireat", c => Expire(c, relative: false, seconds: true));
        r.Add("pexpireat", c => Expire(c, relative: false, seconds: false));
        r.Add("ttl", c => Ttl(c, milliseconds: false, absolute: false));
        r.Add("pttl", c => Ttl(c, milliseconds: true, absolute: false));
        r.Add("expiretime", c => Ttl(c, milliseconds: false, absolute: true));
        r.Add("pexpiretime", c => Ttl(c, milliseconds: true, absolute: true));
        r.Add("persist", Persist);
    }

    private static void Expire(CommandContext c, bool relative, bool seconds)
    {
        var flags = ExpireFlags.None;
        for (var j = 3; j < c.ArgCount; j++)
        {
            flags |= c.ArgIs(j, "nx"u8) ? ExpireFlags.Nx
                : c.ArgIs(j, "xx"u8) ? ExpireFlags.Xx
                : c.ArgIs(j, "gt"u8) ? ExpireFlags.Gt
                : c.ArgIs(j, "lt"u8) ? ExpireFlags.Lt
                : ExpireFlags.None;
            if (!(c.ArgIs(j, "nx"u8) || c.ArgIs(j, "xx"u8) || c.ArgIs(j, "gt"u8) || c.ArgIs(j, "lt"u8)))
            {
                c.Error("ERR Unsupported option " + CommandReplies.Truncated(c.Arg(j), int.MaxValue));
                return;
            }
        }
        if ((flags & ExpireFlags.Nx) != 0 && (flags & (ExpireFlags.Xx | ExpireFlags.Gt | ExpireFlags.Lt)) != 0)
        {
            c.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if ((flags & ExpireFlags.Gt) != 0 && (flags & ExpireFlags.Lt) != 0)
        {
            c.Error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!c.TryGetLong(2, out var when))
        {
            return;
        }
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                c.Error(Replies.InvalidExpireTime(c.CommandName));
                return;
            }
            when *= 1000;
        }
        var baseTime = relative ? c.Keyspace.Now : 0;
        if (when > long.MaxValue - baseTime)
        {
            c.Error(Replies.InvalidExpireTime(c.CommandName));
            return;
        }
        when += baseTime;
        var db = c.Db;
        if (!db.TryGet(c.Arg(1), out var entry, LookupFlags.Write))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        var current = entry.Expire == 0 ? -1 : entry.Expire;
        if (((flags & ExpireFlags.Nx) != 0 && current != -1)
            || ((flags & ExpireFlags.Xx) != 0 && current == -1)
            || ((flags & ExpireFlags.Gt) != 0 && (when <= current || current == -1))
            || ((flags & ExpireFlags.Lt) != 0 && current != -1 && when >= current))
        {
            c.Reply.WriteLiteral(Replies.Zero);
            return;
        }
        if (when <= c.Keyspace.Now && !c.Keyspace.IsReplica)
        {
            db.Remove(entry);
            c.Modified(c.Arg(1), KeyspaceEvents.Generic, "del"u8);
            if (c.Propagating)
            {
                c.PropagateAs(c.ExpiredKeyDelete, c.Arg(1).ToArray());
            }
        }
        else
        {
            db.SetExpire(entry, when);
            c.Modified(c.Arg(1), KeyspaceEvents.Generic, "expire"u8);
            if (c.Propagating)
            {
                // An absolute time replays to the same deadline whenever the AOF is loaded.
                c.PropagateAs("PEXPIREAT"u8.ToArray(), c.Arg(1).ToArray(), CommandContext.Number(when));
            }
        }
        c.Reply.WriteLiteral(Replies.One);
    }

    private static void Ttl(CommandContext c, bool milliseconds, bool absolute)
    {
        if (!c.Db.TryGet(c.Arg(1), out var entry, LookupFlags.NoTouch))
        {
            c.Reply.WriteLiteral(Replies.MinusTwo);
            return;
        }
        var expire = entry.Expire;
        if (expire == 0)
        {
            c.Reply.WriteLiteral(Replies.MinusOne);
            return;
        }
        var ttl = Math.Max(0, absolute ? expire : expire - c.Keyspace.Now);
        c.Reply.WriteInteger(milliseconds ? ttl : (ttl + 500) / 1000);
    }

    private static void Persist(CommandContext c)
    {
        if (c.Db.TryGet(c.Arg(1), out var entry, LookupFlags.Write) && entry.Expire != 0)
        {
            c.Db.ClearExpire(entry);
            c.Modified(c.Arg(1), KeyspaceEvents.Generic, "persist"u8);
            c.Reply.WriteLiteral(Replies.One);
            return;
        }
        c.Reply.WriteLiteral(Replies.Zero);
    }
}
