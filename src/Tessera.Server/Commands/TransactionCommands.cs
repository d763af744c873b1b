using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis's multi.c). Queueing itself is in the session.</summary>
internal static class TransactionCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("multi", Multi);
        r.Add("exec", Exec);
        r.Add("discard", Discard);
        r.Add("watch", Watch);
        r.Add("unwatch", Unwatch);
        // The client's own state, and the watch table, which has a lock of its own. WATCH reads the dataset, so it
        // waits for a busy script to end.
        r.AddWhileBusy("multi");
        r.AddWhileBusy("discard");
        r.AddWhileBusy("unwatch");
    }

    private static void Multi(CommandContext c)
    {
        if ((c.Session.Flags & ClientFlags.Multi) != 0)
        {
            c.Error("ERR MULTI calls can not be nested");
            return;
        }
        c.Session.BeginTransaction();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// Runs the queued commands atomically (the execution lock is held throughout), unless a command was refused
    /// while queueing (EXECABORT) or a watched key changed (a null reply).
    /// </summary>
    private static void Exec(CommandContext c)
    {
        var session = c.Session;
        if ((session.Flags & ClientFlags.Multi) == 0)
        {
            c.Error("ERR EXEC without MULTI");
            return;
        }
        if ((session.Flags & ClientFlags.DirtyExec) != 0)
        {
            session.DiscardTransaction();
            c.Error("EXECABORT Transaction discarded because of previous errors.");
            return;
        }
        if ((session.Flags & ClientFlags.DirtyCas) != 0 || c.Server.Watches.AnyExpiredSinceWatch(session))
        {
            session.DiscardTransaction();
            c.Reply.WriteNullArray();
            return;
        }
        // The queued commands propagate themselves, wrapped in MULTI/EXEC when more than one wrote.
        c.PropagateNothing();
        session.RunQueuedCommands();
    }

    private static void Discard(CommandContext c)
    {
        if ((c.Session.Flags & ClientFlags.Multi) == 0)
        {
            c.Error("ERR DISCARD without MULTI");
            return;
        }
        c.Session.DiscardTransaction();
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Watch(CommandContext c)
    {
        if ((c.Session.Flags & ClientFlags.Multi) != 0)
        {
            c.Error("ERR WATCH inside MULTI is not allowed");
            return;
        }
        for (var i = 1; i < c.ArgCount; i++)
        {
            c.Server.Watches.Watch(c.Session, c.Arg(i));
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    private static void Unwatch(CommandContext c)
    {
        c.Server.Watches.UnwatchAll(c.Session);
        c.Session.Flags &= ~ClientFlags.DirtyCas;
        c.Reply.WriteLiteral(Replies.Ok);
    }
}
