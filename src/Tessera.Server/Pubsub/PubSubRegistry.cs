using System.Text;
using Tessera.Core.Text;
using Tessera.Server.Sessions;

namespace Tessera.Server.Pubsub;

/// <summary>What a subscription is to: a channel, a pattern of channels, or a shard channel (SSUBSCRIBE).</summary>
internal enum SubscriptionKind
{
    Channel,
    Pattern,
    ShardChannel,
}

/// <summary>
/// Pub/sub (Redis's pubsub.c): per channel, per pattern and per shard channel the subscribed clients, in
/// subscription order. PUBLISH delivers to channel subscribers, then to every matching pattern. Used under the
/// execution lock; delivery to other clients goes through their remote output.
/// </summary>
internal sealed class PubSubRegistry
{
    private readonly Dictionary<byte[], List<ClientSession>>[] _subscribers =
        [new(ByteSequenceComparer.Instance), new(ByteSequenceComparer.Instance), new(ByteSequenceComparer.Instance)];

    /// <summary>Channels, patterns or shard channels with at least one subscriber.</summary>
    public int Count(SubscriptionKind kind) => _subscribers[(int)kind].Count;

    /// <summary>Adds the session to a channel's (pattern's) subscribers; false when it already was one.</summary>
    public bool Subscribe(ClientSession session, SubscriptionKind kind, ReadOnlySpan<byte> name)
    {
        if (!session.Subscriptions(kind).Add(Encoding.Latin1.GetString(name)))
        {
            return false;
        }
        var table = _subscribers[(int)kind];
        var key = name.ToArray();
        if (!table.TryGetValue(key, out var clients))
        {
            clients = [];
            table[key] = clients;
        }
        clients.Add(session);
        return true;
    }

    /// <summary>Removes the session from a channel's (pattern's) subscribers; false when it was not one.</summary>
    public bool Unsubscribe(ClientSession session, SubscriptionKind kind, string name)
    {
        if (!session.Subscriptions(kind).Remove(name))
        {
            return false;
        }
        var table = _subscribers[(int)kind];
        var key = Encoding.Latin1.GetBytes(name);
        if (table.TryGetValue(key, out var clients))
        {
            clients.Remove(session);
            if (clients.Count == 0)
            {
                table.Remove(key);
            }
        }
        return true;
    }

    /// <summary>Disconnection and RESET: every subscription of the session ends, without replies.</summary>
    public void UnsubscribeAll(ClientSession session)
    {
        foreach (var kind in (SubscriptionKind[])[SubscriptionKind.Channel, SubscriptionKind.Pattern, SubscriptionKind.ShardChannel])
        {
            foreach (var name in session.Subscriptions(kind).ToArray())
            {
                Unsubscribe(session, kind, name);
            }
        }
    }

    /// <summary>
    /// PUBLISH (SPUBLISH when <paramref name="sharded"/>): sends the message to every subscriber of the channel,
    /// then (not for shard channels) to every subscriber of each matching pattern; returns how many deliveries.
    /// </summary>
    public long Publish(ClientSession? publisher, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool sharded)
    {
        long receivers = 0;
        var kind = sharded ? SubscriptionKind.ShardChannel : SubscriptionKind.Channel;
        var table = _subscribers[(int)kind];
        if (table.Count > 0 && table.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var clients))
        {
            foreach (var client in clients)
            {
                client.DeliverMessage(publisher, sharded ? "smessage"u8 : "message"u8, [], channel, message);
                receivers++;
            }
        }
        if (!sharded)
        {
            foreach (var (pattern, subscribers) in _subscribers[(int)SubscriptionKind.Pattern])
            {
                if (!GlobPattern.IsMatch(pattern, channel))
                {
                    continue;
                }
                foreach (var client in subscribers)
                {
                    client.DeliverMessage(publisher, "pmessage"u8, pattern, channel, message);
                    receivers++;
                }
            }
        }
        return receivers;
    }

    /// <summary>PUBSUB CHANNELS / SHARDCHANNELS: active channels, optionally matching a pattern.</summary>
    public IEnumerable<byte[]> Channels(SubscriptionKind kind, byte[]? pattern)
        => _subscribers[(int)kind].Keys.Where(c => pattern is null || GlobPattern.IsMatch(pattern, c));

    /// <summary>PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel.</summary>
    public int SubscriberCount(SubscriptionKind kind, ReadOnlySpan<byte> channel)
        => _subscribers[(int)kind].GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var clients) ? clients.Count : 0;
}
