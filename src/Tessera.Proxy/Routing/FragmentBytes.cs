namespace Tessera.Proxy.Routing;

/// <summary>
/// Bytes kept per fragment of a request (the fragments' replies, or their requests for a cluster resend), back to
/// back in one array that a reused <see cref="PendingReply"/> keeps, so nothing is rented per request.
/// </summary>
internal sealed class FragmentBytes
{
    /// <summary>Bytes kept across uses; a larger array grown for one big request is dropped.</summary>
    private const int MaxKeptBytes = 64 * 1024;

    private byte[] _bytes = [];
    private int _length;
    private int[] _start = new int[4];
    private int[] _count = new int[4];

    /// <summary>Forgets everything and makes room for <paramref name="fragments"/> fragments.</summary>
    public void Reset(int fragments)
    {
        _length = 0;
        if (_start.Length < fragments)
        {
            _start = new int[fragments];
            _count = new int[fragments];
        }
        Array.Clear(_count, 0, fragments);
    }

    /// <summary>Keeps <paramref name="bytes"/> as fragment <paramref name="fragment"/>'s.</summary>
    public void Set(int fragment, ReadOnlySpan<byte> bytes)
    {
        if (_bytes.Length - _length < bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_length + bytes.Length, Math.Max(_bytes.Length * 2, 64)));
        }
        bytes.CopyTo(_bytes.AsSpan(_length));
        _start[fragment] = _length;
        _count[fragment] = bytes.Length;
        _length += bytes.Length;
    }

    /// <summary>True when fragment <paramref name="fragment"/> has bytes.</summary>
    public bool Has(int fragment) => _count[fragment] > 0;

    public ReadOnlySpan<byte> this[int fragment] => _bytes.AsSpan(_start[fragment], _count[fragment]);

    /// <summary>Drops an array grown past what a spare object should keep.</summary>
    public void Trim()
    {
        if (_bytes.Length > MaxKeptBytes)
        {
            _bytes = [];
        }
    }
}
