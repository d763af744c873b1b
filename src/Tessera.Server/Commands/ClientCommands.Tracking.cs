using Tessera.Server.Caching;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (Redis's networking.c), over Caching/TrackingTable.
internal static partial class ClientCommands
{
    private static void RegisterTracking(CommandRegistry r)
    {
        r.Add("client|tracking", Tracking);
        r.Add("client|caching", Caching);
        r.Add("client|getredir", c => c.Reply.WriteInteger(c.Session.Tracking is { IsOn: true } t ? t.Redirect : -1));
        r.Add("client|trackinginfo", TrackingInfo);
    }

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX prefix ...] [OPTIN] [OPTOUT] [NOLOOP], checked in Redis's order.</summary>
    private static void Tracking(CommandContext c)
    {
        long redirect = 0;
        var options = TrackingFlags.None;
        var prefixes = new List<byte[]>();
        for (var j = 3; j < c.ArgCount; j++)
        {
            var more = j < c.ArgCount - 1;
            if (c.ArgIs(j, "redirect"u8) && more)
            {
                j++;
                if (redirect != 0)
                {
                    c.Error("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!c.TryGetLong(j, out redirect))
                {
                    return;
                }
                // The client must exist now, though it may go later (the redirection then breaks).
                if (c.Server.Clients.Find(redirect) is null)
                {
                    c.Error("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (c.ArgIs(j, "bcast"u8))
            {
                options |= TrackingFlags.Broadcast;
            }
            else if (c.ArgIs(j, "optin"u8))
            {
                options |= TrackingFlags.OptIn;
            }
            else if (c.ArgIs(j, "optout"u8))
            {
                options |= TrackingFlags.OptOut;
            }
            else if (c.ArgIs(j, "noloop"u8))
            {
                options |= TrackingFlags.NoLoop;
            }
            else if (c.ArgIs(j, "prefix"u8) && more)
            {
                j++;
                prefixes.Add(c.Arg(j).ToArray());
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        var session = c.Session;
        if (c.ArgIs(2, "on"u8))
        {
            if (TrackingRefusal(session, options, prefixes) is { } refusal)
            {
                c.Error(refusal);
                return;
            }
            c.Server.Tracking.Enable(session, options, redirect, prefixes);
        }
        else if (c.ArgIs(2, "off"u8))
        {
            c.Server.Tracking.Disable(session);
        }
        else
        {
            c.SyntaxError();
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>Why CLIENT TRACKING ON cannot take these options now, or null.</summary>
    private static string? TrackingRefusal(ClientSession session, TrackingFlags options, List<byte[]> prefixes)
    {
        var current = session.Tracking?.Flags ?? TrackingFlags.None;
        var broadcast = (options & TrackingFlags.Broadcast) != 0;
        if (!broadcast && prefixes.Count > 0)
        {
            return "ERR PREFIX option requires BCAST mode to be enabled";
        }
        if ((current & TrackingFlags.On) != 0 && ((current & TrackingFlags.Broadcast) != 0) != broadcast)
        {
            return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
        }
        if (broadcast && (options & (TrackingFlags.OptIn | TrackingFlags.OptOut)) != 0)
        {
            return "ERR OPTIN and OPTOUT are not compatible with BCAST";
        }
        if ((options & TrackingFlags.OptIn) != 0 && (options & TrackingFlags.OptOut) != 0)
        {
            return "ERR You can't specify both OPTIN mode and OPTOUT mode";
        }
        if (((options & TrackingFlags.OptIn) != 0 && (current & TrackingFlags.OptOut) != 0)
            || ((options & TrackingFlags.OptOut) != 0 && (current & TrackingFlags.OptIn) != 0))
        {
            return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
        }
        return broadcast ? TrackingTable.PrefixCollision(session, prefixes) : null;
    }

    /// <summary>CLIENT CACHING YES|NO: in OPTIN (OPTOUT) mode, the next command's keys are (not) remembered.</summary>
    private static void Caching(CommandContext c)
    {
        if (c.Session.Tracking is not { IsOn: true } tracking)
        {
            c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (c.ArgIs(2, "yes"u8))
        {
            if ((tracking.Flags & TrackingFlags.OptIn) == 0)
            {
                c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (c.ArgIs(2, "no"u8))
        {
            if ((tracking.Flags & TrackingFlags.OptOut) == 0)
            {
                c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            c.SyntaxError();
            return;
        }
        tracking.Flags |= TrackingFlags.Caching;
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>CLIENT TRACKINGINFO's flags in Redis's order; OPTIN and OPTOUT name a pending CLIENT CACHING too.</summary>
    private static readonly (TrackingFlags Flag, string Name, string? WithCaching)[] TrackingInfoFlags =
    [
        (TrackingFlags.Broadcast, "bcast", null),
        (TrackingFlags.OptIn, "optin", "caching-yes"),
        (TrackingFlags.OptOut, "optout", "caching-no"),
        (TrackingFlags.NoLoop, "noloop", null),
        (TrackingFlags.BrokenRedirect, "broken_redirect", null),
    ];

    /// <summary>CLIENT TRACKINGINFO: the flags (a set), the redirection and the BCAST prefixes.</summary>
    private static void TrackingInfo(CommandContext c)
    {
        var w = c.Reply;
        var tracking = c.Session.Tracking;
        var flags = tracking?.Flags ?? TrackingFlags.None;
        var names = new List<string> { (flags & TrackingFlags.On) != 0 ? "on" : "off" };
        foreach (var (flag, name, withCaching) in TrackingInfoFlags)
        {
            if ((flags & flag) != 0)
            {
                names.Add(name);
                if (withCaching is not null && (flags & TrackingFlags.Caching) != 0)
                {
                    names.Add(withCaching);
                }
            }
        }
        w.WriteMapHeader(3);
        w.WriteBulk("flags"u8);
        w.WriteSetHeader(names.Count);
        foreach (var name in names)
        {
            w.WriteBulk(name);
        }
        w.WriteBulk("redirect"u8);
        w.WriteInteger((flags & TrackingFlags.On) != 0 ? tracking!.Redirect : -1);
        w.WriteBulk("prefixes"u8);
        w.WriteArrayHeader(tracking?.Prefixes.Count ?? 0);
        foreach (var prefix in tracking?.Prefixes ?? [])
        {
            w.WriteBulk(prefix);
        }
    }

    /// <summary>CLIENT LIST's tracking flags: t (on), R (broken redirection), B (BCAST).</summary>
    private static string TrackingListFlags(TrackingFlags flags)
        => ((flags & TrackingFlags.On) != 0 ? "t" : "") + ((flags & TrackingFlags.BrokenRedirect) != 0 ? "R" : "") + ((flags & TrackingFlags.Broadcast) != 0 ? "B" : "");
}
