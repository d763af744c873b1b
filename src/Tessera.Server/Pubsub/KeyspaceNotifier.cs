using System.Buffers;
using Tessera.Server.Config;
using Tessera.Server.Sessions;

namespace Tessera.Server.Pubsub;

/// <summary>
/// Keyspace notifications (Redis's notify.c): an event on a key is published to
/// <c>__keyspace@&lt;db&gt;__:&lt;key&gt;</c> (message: the event) and <c>__keyevent@&lt;db&gt;__:&lt;event&gt;</c>
/// (message: the key), as <c>notify-keyspace-events</c> selects. With notifications off an event costs one test.
/// </summary>
internal sealed class KeyspaceNotifier(ServerConfig config, PubSubRegistry pubSub, Func<ClientSession?> currentClient)
{
    private static ReadOnlySpan<byte> KeyspacePrefix => "__keyspace@"u8;

    private static ReadOnlySpan<byte> KeyeventPrefix => "__keyevent@"u8;

    /// <summary>Publishes <paramref name="eventName"/> on <paramref name="key"/> of database <paramref name="db"/> if its class is enabled.</summary>
    public void Notify(KeyspaceEvents type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, int db)
    {
        var enabled = config.NotifyKeyspaceEvents;
        if ((enabled & type) == 0)
        {
            return;
        }
        var publisher = currentClient();
        if ((enabled & KeyspaceEvents.Keyspace) != 0)
        {
            Publish(publisher, KeyspacePrefix, db, key, eventName);
        }
        if ((enabled & KeyspaceEvents.Keyevent) != 0)
        {
            Publish(publisher, KeyeventPrefix, db, eventName, key);
        }
    }

    /// <summary>Publishes <paramref name="message"/> to "prefix + db + __: + suffix".</summary>
    private void Publish(ClientSession? publisher, ReadOnlySpan<byte> prefix, int db, ReadOnlySpan<byte> suffix, ReadOnlySpan<byte> message)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(prefix.Length + 16 + suffix.Length);
        try
        {
            var length = prefix.Length;
            prefix.CopyTo(buffer);
            db.TryFormat(buffer.AsSpan(length), out var digits);
            length += digits;
            "__:"u8.CopyTo(buffer.AsSpan(length));
            length += 3;
            suffix.CopyTo(buffer.AsSpan(length));
            length += suffix.Length;
            pubSub.Publish(publisher, buffer.AsSpan(0, length), message, sharded: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
