using System.Text;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Pub/sub commands (Redis's pubsub.c): (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.</summary>
internal static class PubSubCommands
{
    public static void Register(CommandRegistry r)
    {
        r.Add("subscribe", c => Subscribe(c, SubscriptionKind.Channel, "subscribe"u8));
        r.Add("psubscribe", c => Subscribe(c, SubscriptionKind.Pattern, "psubscribe"u8));
        r.Add("ssubscribe", c => Subscribe(c, SubscriptionKind.ShardChannel, "ssubscribe"u8));
        r.Add("unsubscribe", c => Unsubscribe(c, SubscriptionKind.Channel, "unsubscribe"u8));
        r.Add("punsubscribe", c => Unsubscribe(c, SubscriptionKind.Pattern, "punsubscribe"u8));
        r.Add("sunsubscribe", c => Unsubscribe(c, SubscriptionKind.ShardChannel, "sunsubscribe"u8));
        r.Add("publish", c => Publish(c, sharded: false));
        r.Add("spublish", c => Publish(c, sharded: true));
        r.Add("pubsub|channels", c => Channels(c, SubscriptionKind.Channel));
        r.Add("pubsub|shardchannels", c => Channels(c, SubscriptionKind.ShardChannel));
        r.Add("pubsub|numsub", c => NumSub(c, SubscriptionKind.Channel));
        r.Add("pubsub|shardnumsub", c => NumSub(c, SubscriptionKind.ShardChannel));
        r.Add("pubsub|numpat", c => c.Reply.WriteInteger(c.Server.PubSub.Count(SubscriptionKind.Pattern)));
        r.Add("pubsub|help", c => Help.Write(c,
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)"));
    }

    /// <summary>One confirmation per channel: the kind, the channel, and the client's subscription count.</summary>
    private static void Subscribe(CommandContext c, SubscriptionKind kind, ReadOnlySpan<byte> reply)
    {
        var session = c.Session;
        for (var i = 1; i < c.ArgCount; i++)
        {
            c.Server.PubSub.Subscribe(session, kind, c.Arg(i));
            WriteConfirmation(c, reply, c.Arg(i), Count(session, kind));
        }
    }

    /// <summary>
    /// Ends the named subscriptions, or all of them without names (one confirmation each, or one with a null
    /// channel when there were none).
    /// </summary>
    private static void Unsubscribe(CommandContext c, SubscriptionKind kind, ReadOnlySpan<byte> reply)
    {
        var session = c.Session;
        var registry = c.Server.PubSub;
        if (c.ArgCount > 1)
        {
            for (var i = 1; i < c.ArgCount; i++)
            {
                registry.Unsubscribe(session, kind, Encoding.Latin1.GetString(c.Arg(i)));
                WriteConfirmation(c, reply, c.Arg(i), Count(session, kind));
            }
            return;
        }
        var names = session.Subscriptions(kind).ToArray();
        if (names.Length == 0)
        {
            var w = c.PushWriter;
            w.WritePushHeader(3);
            w.WriteBulk(reply);
            w.WriteNullBulk();
            w.WriteInteger(Count(session, kind));
            return;
        }
        foreach (var name in names)
        {
            registry.Unsubscribe(session, kind, name);
            WriteConfirmation(c, reply, Encoding.Latin1.GetBytes(name), Count(session, kind));
        }
    }

    private static int Count(ClientSession session, SubscriptionKind kind)
        => kind == SubscriptionKind.ShardChannel ? session.Subscriptions(kind).Count : session.SubscriptionCount;

    /// <summary>A confirmation is a push: it is sent even when CLIENT REPLY silences the command, as in Redis.</summary>
    private static void WriteConfirmation(CommandContext c, ReadOnlySpan<byte> reply, ReadOnlySpan<byte> channel, int count)
    {
        var w = c.PushWriter;
        w.WritePushHeader(3);
        w.WriteBulk(reply);
        w.WriteBulk(channel);
        w.WriteInteger(count);
    }

    /// <summary>PUBLISH / SPUBLISH: the local subscribers' count is the reply; in cluster mode the bus takes it further.</summary>
    private static void Publish(CommandContext c, bool sharded)
    {
        c.Reply.WriteInteger(c.Server.PubSub.Publish(c.Session, c.Arg(1), c.Arg(2), sharded));
        c.Server.Cluster?.Publish(c.Arg(1), c.Arg(2), sharded);
    }

    private static void Channels(CommandContext c, SubscriptionKind kind)
    {
        if (c.ArgCount > 3)
        {
            c.Error($"ERR unknown subcommand or wrong number of arguments for '{Encoding.Latin1.GetString(c.Arg(1))}'. Try PUBSUB HELP.");
            return;
        }
        var channels = c.Server.PubSub.Channels(kind, c.ArgCount == 3 ? c.Arg(2).ToArray() : null).ToList();
        c.Reply.WriteArrayHeader(channels.Count);
        foreach (var channel in channels)
        {
            c.Reply.WriteBulk(channel);
        }
    }

    private static void NumSub(CommandContext c, SubscriptionKind kind)
    {
        c.Reply.WriteArrayHeader((c.ArgCount - 2) * 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            c.Reply.WriteBulk(c.Arg(i));
            c.Reply.WriteInteger(c.Server.PubSub.SubscriberCount(kind, c.Arg(i)));
        }
    }
}
