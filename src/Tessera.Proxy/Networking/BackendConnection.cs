using System.Net.Sockets;
using Tessera.Proxy.Pools;
using Tessera.Proxy.Routing;
using Tessera.Resp;

namespace Tessera.Proxy.Networking;

/// <summary>
/// One connection from a proxy thread to a backend. Requests of many clients are written to <see cref="Output"/>
/// back to back and sent once per batch of events; replies come back in the same order, so a FIFO of what each
/// request belongs to is all the bookkeeping a connection needs.
/// </summary>
internal sealed class BackendConnection(ServerPool pool, Backend backend, Socket socket)
{
    private Inflight[] _inflight = new Inflight[64];
    private int _head;
    private int _count;

    public ServerPool Pool { get; } = pool;

    public Backend Backend { get; } = backend;

    /// <summary>The socket (kept so .NET owns and closes the descriptor).</summary>
    public Socket Socket { get; } = socket;

    public int Fd { get; } = (int)socket.Handle;

    /// <summary>Requests written and not yet sent.</summary>
    public RespWriter Output { get; } = new();

    /// <summary>What was read and not yet handled.</summary>
    public ReadBuffer Input { get; } = new();

    /// <summary>False until the non-blocking connect completed.</summary>
    public bool Connected { get; set; }

    public bool Closed { get; set; }

    /// <summary>Left behind by a reload: takes no new requests, closes once the last reply is in.</summary>
    public bool Retiring { get; set; }

    /// <summary>True while in its loop's list of connections to flush after this batch.</summary>
    public bool Dirty { get; set; }

    public uint Interest { get; set; }

    /// <summary>Requests sent or queued that still wait for a reply.</summary>
    public int InflightCount => _count;

    /// <summary>Remembers that the next reply belongs to <paramref name="reply"/> (null: the AUTH/SELECT preamble).</summary>
    public void Expect(PendingReply? reply, int fragment, long sentAt)
    {
        if (_count == _inflight.Length)
        {
            var grown = new Inflight[_count * 2];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = _inflight[(_head + i) % _inflight.Length];
            }
            _inflight = grown;
            _head = 0;
        }
        _inflight[(_head + _count) % _inflight.Length] = new Inflight(reply, fragment, sentAt);
        _count++;
    }

    /// <summary>The oldest request still waiting.</summary>
    public ref readonly Inflight Oldest => ref _inflight[_head];

    /// <summary>Takes the oldest request off the queue.</summary>
    public Inflight Dequeue()
    {
        var entry = _inflight[_head];
        _inflight[_head] = default;
        _head = (_head + 1) % _inflight.Length;
        _count--;
        return entry;
    }

    /// <summary>What a reply on this connection belongs to.</summary>
    public readonly record struct Inflight(PendingReply? Reply, int Fragment, long SentAt);
}
