using Tessera.Resp;
using Tessera.Server.Pubsub;

namespace Tessera.Server.Sessions;

/// <summary>A client's subscriptions and the messages delivered to it.</summary>
internal sealed partial class ClientSession
{
    private readonly HashSet<string>[] _subscriptions = [[], [], []];
    private RespWriter? _silencedPushes;

    /// <summary>The channels, patterns or shard channels this client is subscribed to.</summary>
    public HashSet<string> Subscriptions(SubscriptionKind kind) => _subscriptions[(int)kind];

    /// <summary>
    /// Where this client's own command writes a push (a subscription confirmation, a message it published to
    /// itself): its output, or, while CLIENT REPLY OFF or SKIP silences the command's reply, a side buffer that
    /// survives the silencing, as Redis's CLIENT_PUSHING lets pushes through.
    /// </summary>
    public RespWriter PushWriter
    {
        get
        {
            if ((Flags & (ClientFlags.ReplyOff | ClientFlags.ReplySkip)) == 0)
            {
                return Output;
            }
            _silencedPushes ??= new RespWriter();
            _silencedPushes.Protocol = Output.Protocol;
            return _silencedPushes;
        }
    }

    /// <summary>Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE replies report.</summary>
    public int SubscriptionCount => _subscriptions[0].Count + _subscriptions[1].Count;

    /// <summary>True while subscribed to anything: a RESP2 client may then only (un)subscribe, PING, QUIT, RESET.</summary>
    public bool InPubSubMode => SubscriptionCount + _subscriptions[2].Count > 0;

    /// <summary>
    /// Writes a message (message/pmessage/smessage) for this subscriber: straight into its output when it is the
    /// publisher itself (so it precedes PUBLISH's reply, as in Redis), otherwise into its remote output. A
    /// subscriber over <c>client-output-buffer-limit pubsub</c> is disconnected.
    /// </summary>
    public void DeliverMessage(ClientSession? publisher, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        if (publisher == this)
        {
            WriteMessage(PushWriter, kind, pattern, channel, message);
            return;
        }
        if (_closedForOutputLimit)
        {
            return;
        }
        long pending;
        lock (_remoteLock)
        {
            WriteMessage(_remote, kind, pattern, channel, message);
            _remotePending = true;
            pending = _remote.Length;
        }
        WakeWithinLimit("pubsub", pending);
    }

    /// <summary>
    /// Appends replication stream bytes for this replica (under the execution lock, from the writer's thread);
    /// a replica over <c>client-output-buffer-limit replica</c> is disconnected, so one that stops reading
    /// cannot grow its master's memory without bound.
    /// </summary>
    public void WriteStream(OutputBuffer stream)
    {
        if (_closedForOutputLimit)
        {
            return;
        }
        long pending;
        lock (_remoteLock)
        {
            Persistence.Propagation.Copy(stream, _remote);
            _remotePending = true;
            pending = _remote.Length;
        }
        WakeWithinLimit("slave", pending);
    }

    private static void WriteMessage(RespWriter w, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        w.WritePushHeader(pattern.IsEmpty ? 3 : 4);
        w.WriteBulk(kind);
        if (!pattern.IsEmpty)
        {
            w.WriteBulk(pattern);
        }
        w.WriteBulk(channel);
        w.WriteBulk(message);
    }
}
