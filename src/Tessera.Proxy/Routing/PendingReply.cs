using System.Text;
using Tessera.Proxy.Networking;
using Tessera.Proxy.Protocol;
using Tessera.Resp;

namespace Tessera.Proxy.Routing;

/// <summary>
/// The reply a client waits for, in its queue in request order: filled by one backend reply (passed through) or
/// merged from several fragments. Reused through its loop's pool; a request costs no allocation once warm.
/// </summary>
internal sealed class PendingReply
{
    /// <summary>The fragments' replies.</summary>
    private readonly FragmentBytes _parts = new();

    /// <summary>The fragments' requests (cluster pools, to send again after MOVED or ASK).</summary>
    private readonly FragmentBytes _requests = new();
    private int[] _redirects = new int[4];
    private int[] _keyFragment = new int[16];
    private int _keyCount;
    private long _sum;
    private byte[]? _failure;
    private ScanCursor _scan;
    private bool _local;

    /// <summary>The client, or null once it went away (replies still arriving are then dropped).</summary>
    public ClientConnection? Client { get; set; }

    public ReplyMerge Merge { get; private set; }

    /// <summary>Fragments still to answer.</summary>
    public int Outstanding { get; private set; }

    public int Fragments { get; private set; }

    /// <summary>Where a reply the proxy makes itself is written (see <see cref="StartLocal"/>).</summary>
    public RespWriter Reply { get; } = new();

    public bool Ready => Outstanding == 0;

    /// <summary>Counts a MOVED/ASK redirection of <paramref name="fragment"/>; returns how many it has had.</summary>
    public int Redirected(int fragment) => ++_redirects[fragment];

    /// <summary>Keeps fragment <paramref name="fragment"/>'s request, to send again after a cluster redirection.</summary>
    public void SaveRequest(int fragment, ReadOnlySpan<byte> request) => _requests.Set(fragment, request);

    /// <summary>True when <paramref name="fragment"/>'s request was saved (cluster pools save every one they can resend).</summary>
    public bool HasSavedRequest(int fragment) => _requests.Has(fragment);

    /// <summary>The request saved for <paramref name="fragment"/>.</summary>
    public ReadOnlySpan<byte> SavedRequest(int fragment) => _requests[fragment];

    /// <summary>Prepares for a request of <paramref name="fragments"/> fragments merged by <paramref name="merge"/>.</summary>
    public void Start(ClientConnection client, ReplyMerge merge, int fragments)
    {
        Client = client;
        Merge = merge;
        Outstanding = fragments;
        Fragments = fragments;
        _keyCount = 0;
        _sum = 0;
        _failure = null;
        _local = false;
        _parts.Reset(fragments);
        _requests.Reset(fragments);
        if (_redirects.Length < fragments)
        {
            _redirects = new int[fragments];
        }
        Array.Clear(_redirects, 0, fragments);
    }

    /// <summary>A reply the proxy makes itself (errors, PING ...): ready at once.</summary>
    public void StartLocal(ClientConnection client)
    {
        Start(client, ReplyMerge.Pass, 0);
        _local = true;
    }

    /// <summary>SCAN: the reply comes from the backend <paramref name="cursor"/> names.</summary>
    public void ExpectScan(ScanCursor cursor) => _scan = cursor;

    /// <summary>MGET: the client's key number <see cref="_keyCount"/> went to <paramref name="fragment"/>.</summary>
    public void AddKey(int fragment)
    {
        if (_keyCount == _keyFragment.Length)
        {
            Array.Resize(ref _keyFragment, _keyCount * 2);
        }
        _keyFragment[_keyCount++] = fragment;
    }

    /// <summary>The reply of <paramref name="fragment"/> arrived.</summary>
    public void Deliver(int fragment, ReadOnlySpan<byte> reply)
    {
        if (Merge == ReplyMerge.Pass)
        {
            _parts.Set(fragment, reply);
        }
        else if (ReplyScanner.IsError(reply))
        {
            _failure ??= reply.ToArray();
        }
        else
        {
            Collect(fragment, reply);
        }
        Outstanding--;
    }

    /// <summary>
    /// Writes the finished reply to <paramref name="output"/> (the client's): a passed-through reply as received,
    /// a split one merged now, straight into the output.
    /// </summary>
    public void WriteTo(RespWriter output)
    {
        if (_local)
        {
            output.TakeFrom(Reply);
        }
        else if (Merge == ReplyMerge.Pass)
        {
            output.WriteRaw(Part(0));
        }
        else
        {
            Finish(output);
        }
    }

    /// <summary>The fragment could not be answered (backend down, timed out): the request fails with <paramref name="error"/>.</summary>
    public void Fail(int fragment, string error) => Deliver(fragment, Encoding.UTF8.GetBytes($"-ERR {error}\r\n"));

    /// <summary>Gives back rented memory before the reply goes back to its loop's pool.</summary>
    public void Recycle()
    {
        Client = null;
        Reply.Clear();
        _parts.Trim();
        _requests.Trim();
    }

    private void Collect(int fragment, ReadOnlySpan<byte> reply)
    {
        switch (Merge)
        {
            case ReplyMerge.Sum:
                if (ReplyScanner.TryReadInteger(reply, out var n))
                {
                    _sum += n;
                }
                else
                {
                    _failure ??= "-ERR unexpected reply from a backend\r\n"u8.ToArray();
                }
                break;
            case ReplyMerge.AllOk:
                if (!reply.SequenceEqual("+OK\r\n"u8))
                {
                    _failure ??= reply.ToArray();
                }
                break;
            default:
                _parts.Set(fragment, reply);
                break;
        }
    }

    private ReadOnlySpan<byte> Part(int fragment) => _parts[fragment];

    private void Finish(RespWriter output)
    {
        if (_failure is not null)
        {
            output.WriteRaw(_failure);
            return;
        }
        switch (Merge)
        {
            case ReplyMerge.Sum:
                output.WriteInteger(_sum);
                break;
            case ReplyMerge.AllOk:
                output.WriteLiteral("+OK\r\n"u8);
                break;
            case ReplyMerge.Same:
                var first = Part(0);
                for (var f = 1; f < Fragments; f++)
                {
                    if (!Part(f).SequenceEqual(first))
                    {
                        output.WriteError("ERR the backends answered differently");
                        return;
                    }
                }
                output.WriteRaw(first);
                break;
            case ReplyMerge.Concatenate:
                Concatenate(output);
                break;
            case ReplyMerge.KeysInOrder:
                KeysInOrder(output);
                break;
            case ReplyMerge.Scan:
                if (!_scan.WriteReply(Part(0), output))
                {
                    output.WriteError("ERR unexpected reply from a backend");
                }
                break;
        }
    }

    private void Concatenate(RespWriter output)
    {
        var total = 0;
        for (var f = 0; f < Fragments; f++)
        {
            if (!ReplyScanner.TryReadArrayHeader(Part(f), out var count, out _))
            {
                output.WriteError("ERR unexpected reply from a backend");
                return;
            }
            total += Math.Max(count, 0);
        }
        output.WriteArrayHeader(total);
        for (var f = 0; f < Fragments; f++)
        {
            ReplyScanner.TryReadArrayHeader(Part(f), out _, out var first);
            output.WriteRaw(Part(f)[first..]);
        }
    }

    private void KeysInOrder(RespWriter output)
    {
        // The fragments are complete replies (measured on arrival); each must hold one element per key sent to it.
        Span<int> cursor = Fragments <= 64 ? stackalloc int[Fragments] : new int[Fragments];
        Span<int> expected = Fragments <= 64 ? stackalloc int[Fragments] : new int[Fragments];
        expected.Clear();
        for (var k = 0; k < _keyCount; k++)
        {
            expected[_keyFragment[k]]++;
        }
        for (var f = 0; f < Fragments; f++)
        {
            if (!ReplyScanner.TryReadArrayHeader(Part(f), out var count, out cursor[f]) || count != expected[f])
            {
                output.WriteError("ERR unexpected reply from a backend");
                return;
            }
        }
        output.WriteArrayHeader(_keyCount);
        for (var k = 0; k < _keyCount; k++)
        {
            var f = _keyFragment[k];
            var part = Part(f);
            var length = ReplyScanner.Measure(part[cursor[f]..]);
            output.WriteRaw(part.Slice(cursor[f], length));
            cursor[f] += length;
        }
    }
}
