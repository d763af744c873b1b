using Tessera.Resp;
using Tessera.Server.Logging;

namespace Tessera.Server.Sessions;

/// <summary>A client's subscriptions and the messages delivered to it.</summary>
internal sealed partial class ClientSession
{
    private readonly HashSet<string>[] _subscriptions = [[], [], []];
    private long _softLimitSinceMs;
    private bool _closedForOutputLimit;

    /// <summary>The channels, patterns or shard channels this client is subscribed to.</summary>
    public HashSet<string> Subscriptions(SubscriptionKind kind) => _subscriptions[(int)kind];

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
            WriteMessage(Output, kind, pattern, channel, message);
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

    /// <summary>
    /// After output was queued from another thread: closes the connection when the class's output buffer limit
    /// is passed (from that thread, as CLIENT KILL does; the loop then forgets the session), else wakes its loop.
    /// </summary>
    private void WakeWithinLimit(string limitClass, long pending)
    {
        if (!CloseOverOutputLimit(limitClass, pending))
        {
            Transport?.Wake();
        }
    }

    /// <summary>
    /// Closes the connection when <paramref name="pending"/> bytes besides its output pass the class's output
    /// buffer limit (also a replica's stream held back during its snapshot transfer); true when it did.
    /// </summary>
    public bool CloseOverOutputLimit(string limitClass, long pending)
    {
        if (_closedForOutputLimit)
        {
            return true;
        }
        if (!ExceedsOutputLimit(limitClass, pending + Output.Length))
        {
            return false;
        }
        _closedForOutputLimit = true;
        _server.Log.ClosingForOutputLimit(RemoteAddress, limitClass, pending + Output.Length);
        Transport?.Close();
        return true;
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

    /// <summary>A class of client-output-buffer-limit: over the hard limit, or over the soft one for too long.</summary>
    private bool ExceedsOutputLimit(string limitClass, long pending)
    {
        var (hard, soft, seconds) = _server.Config.OutputBufferLimits[limitClass];
        if (hard > 0 && pending >= hard)
        {
            return true;
        }
        if (soft <= 0 || pending < soft)
        {
            _softLimitSinceMs = 0;
            return false;
        }
        var now = Environment.TickCount64;
        if (_softLimitSinceMs == 0)
        {
            _softLimitSinceMs = now;
        }
        return now - _softLimitSinceMs >= seconds * 1000;
    }
}
