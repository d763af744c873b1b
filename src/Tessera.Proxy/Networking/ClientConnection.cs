using Tessera.Proxy.Pools;
using Tessera.Proxy.Routing;
using Tessera.Resp;

namespace Tessera.Proxy.Networking;

/// <summary>
/// A client of one pool, owned by one proxy thread. Its requests may be answered by different backends at different
/// times; <see cref="Complete"/> keeps the replies in request order: a reply goes out only when every reply before
/// it has, the common case (the oldest request answered) without any copy.
/// </summary>
internal sealed class ClientConnection(ProxyLoop loop, ServerPool pool, int fd)
{
    /// <summary>Requests in flight per client beyond which the proxy stops reading it (backpressure).</summary>
    public const int MaxPending = 4096;

    /// <summary>Unsent reply bytes beyond which the proxy stops reading it.</summary>
    public const long MaxOutputBytes = 4 * 1024 * 1024;

    private PendingReply[] _pending = new PendingReply[16];
    private int _head;
    private int _count;

    public ProxyLoop Loop { get; } = loop;

    /// <summary>The pool served (replaced by its new version when the configuration is reloaded).</summary>
    public ServerPool Pool { get; set; } = pool;

    public int Fd { get; } = fd;

    /// <summary>What was read and not yet handled.</summary>
    public ReadBuffer Input { get; } = new();

    public RequestParser Parser { get; } = new();

    public Request Request { get; } = new();

    public RespWriter Output { get; } = new();

    /// <summary>Reused key positions of the request being routed.</summary>
    public List<int> Keys { get; } = [];

    /// <summary>True once the client gave the pool's redis_auth password (or none is needed).</summary>
    public bool Authenticated { get; set; }

    /// <summary>Set by QUIT or a protocol error: close once the replies before it are sent.</summary>
    public bool CloseAfterReplies { get; set; }

    public bool Closed { get; set; }

    public bool Dirty { get; set; }

    public uint Interest { get; set; }

    /// <summary>Replies still owed.</summary>
    public int PendingCount => _count;

    /// <summary>True when the proxy should read more requests now.</summary>
    public bool WantsInput => !CloseAfterReplies && _count < MaxPending && Output.Length < MaxOutputBytes;

    /// <summary>Appends <paramref name="reply"/> to the replies owed, in request order.</summary>
    public void Enqueue(PendingReply reply)
    {
        if (_count == _pending.Length)
        {
            var grown = new PendingReply[_count * 2];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _pending[(_head + i) & (_pending.Length - 1)];
            }
            _pending = grown;
            _head = 0;
        }
        _pending[(_head + _count) & (_pending.Length - 1)] = reply;
        _count++;
    }

    /// <summary>
    /// A backend answered a fragment of <paramref name="reply"/>. The oldest request's single reply is written
    /// straight to the output; anything else is kept until the replies before it have gone.
    /// </summary>
    public void Complete(PendingReply reply, int fragment, ReadOnlySpan<byte> bytes)
    {
        if (reply.Merge == ReplyMerge.Pass && reply.Outstanding == 1 && _count > 0 && _pending[_head] == reply)
        {
            Output.WriteRaw(bytes);
            Dequeue();
            Loop.Replies.Return(reply);
        }
        else
        {
            reply.Deliver(fragment, bytes);
        }
        DrainReady();
        Loop.MarkDirty(this);
    }

    /// <summary>Moves the finished replies at the head of the queue to the output.</summary>
    public void DrainReady()
    {
        while (_count > 0 && _pending[_head].Ready)
        {
            var reply = Dequeue();
            reply.WriteTo(Output);
            Loop.Replies.Return(reply);
        }
    }

    /// <summary>On close: replies still owed are detached (their backends' answers will be dropped).</summary>
    public void DetachPending()
    {
        while (_count > 0)
        {
            var reply = Dequeue();
            reply.Client = null;
            if (reply.Ready)
            {
                Loop.Replies.Return(reply);
            }
        }
    }

    private PendingReply Dequeue()
    {
        var reply = _pending[_head];
        _pending[_head] = null!;
        _head = (_head + 1) & (_pending.Length - 1);
        _count--;
        return reply;
    }
}
