namespace Tessera.Resp;

/// <summary>
/// Reads client requests: RESP multibulk arrays of bulk strings, or inline commands (a line typed in telnet).
/// Mirrors Redis's <c>processMultibulkBuffer</c>/<c>processInlineBuffer</c>: the same limits, the same
/// "Protocol error" texts, and a partial multibulk is resumed where it stopped, so a command of a million arguments
/// arriving in many reads is parsed once. One parser per connection; it allocates nothing once warm.
/// </summary>
public sealed class RequestParser
{
    /// <summary>Longest inline request or length line accepted without its newline (Redis's PROTO_INLINE_MAX_SIZE).</summary>
    public const int InlineMaxSize = 64 * 1024;

    private const int UnauthenticatedMaxArgs = 10;
    private const int UnauthenticatedMaxBulk = 16384;

    private int _remaining = -1;
    private long _bulkLength = -1;
    private int _scan;
    private byte[] _inlineScratch = [];

    /// <summary>Largest bulk argument accepted (<c>proto-max-bulk-len</c>).</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>True while the client still has to authenticate: Redis then refuses large requests outright.</summary>
    public bool Unauthenticated { get; set; }

    /// <summary>The protocol error of the last <see cref="ParseStatus.Error"/> result, without the "ERR " prefix.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Bytes, counted from the start of the current command, that must be buffered before the bulk being read can
    /// complete; lets the caller grow its buffer once for a large value. Zero when unknown.
    /// </summary>
    public long BytesNeeded => _remaining > 0 && _bulkLength >= 0 ? _scan + _bulkLength + 2 : 0;

    /// <summary>True while a multibulk request is partly read.</summary>
    public bool InProgress => _remaining > 0;

    /// <summary>
    /// Parses one command from <paramref name="buffer"/>[<paramref name="start"/>..<paramref name="end"/>), where
    /// <paramref name="start"/> is the first byte of the command. After <see cref="ParseStatus.Incomplete"/> call
    /// again with the same command start (the bytes may have moved to another buffer) and more bytes after them.
    /// </summary>
    public ParseStatus Parse(byte[] buffer, int start, int end, Request request, out int consumed)
    {
        consumed = 0;
        var data = buffer.AsSpan(start, end - start);
        if (_remaining < 0)
        {
            if (data.IsEmpty)
            {
                return ParseStatus.Incomplete;
            }
            if (data[0] != (byte)'*')
            {
                return ParseInline(data, request, out consumed);
            }
            var status = ReadLength(data, 0, "too big mbulk count string", out var valid, out var count, out var next);
            if (status != ParseStatus.Complete)
            {
                return status;
            }
            if (!valid || count > int.MaxValue || (Unauthenticated && count > UnauthenticatedMaxArgs))
            {
                return Fail("Protocol error: invalid multibulk length");
            }
            if (count <= 0)
            {
                consumed = next;
                return ParseStatus.Skipped;
            }
            _remaining = (int)count;
            _bulkLength = -1;
            _scan = next;
            request.Clear();
        }

        while (_remaining > 0)
        {
            if (_bulkLength < 0)
            {
                var status = ReadLength(data, _scan, "too big bulk count string", out var valid, out var length, out var next);
                if (status != ParseStatus.Complete)
                {
                    return status;
                }
                if (data[_scan] != (byte)'$')
                {
                    return FailExpectedDollar(data[_scan]);
                }
                if (!valid || length < 0 || length > MaxBulkLength
                    || (Unauthenticated && length > UnauthenticatedMaxBulk))
                {
                    return Fail("Protocol error: invalid bulk length");
                }
                _bulkLength = length;
                _scan = next;
            }
            if (data.Length - _scan < _bulkLength + 2)
            {
                return ParseStatus.Incomplete;
            }
            request.Add(_scan, (int)_bulkLength);
            // Like Redis, the two bytes after the data are skipped, not checked.
            _scan += (int)_bulkLength + 2;
            _bulkLength = -1;
            _remaining--;
        }

        consumed = _scan;
        _remaining = -1;
        _scan = 0;
        request.Bind(buffer, start);
        return ParseStatus.Complete;
    }

    /// <summary>Drops a partly read request (the connection is being reset).</summary>
    public void Reset()
    {
        _remaining = -1;
        _bulkLength = -1;
        _scan = 0;
        Error = null;
    }

    /// <summary>Reads "&lt;prefix&gt;&lt;integer&gt;\r\n" at <paramref name="at"/>; <paramref name="valid"/> is false for a malformed integer.</summary>
    private ParseStatus ReadLength(ReadOnlySpan<byte> data, int at, string tooBig, out bool valid, out long value, out int next)
    {
        value = 0;
        valid = false;
        next = 0;
        var cr = IndexOfBeforeNul(data[at..], (byte)'\r');
        if (cr < 0)
        {
            return data.Length - at > InlineMaxSize ? Fail("Protocol error: " + tooBig) : ParseStatus.Incomplete;
        }
        cr += at;
        if (cr + 1 >= data.Length)
        {
            return ParseStatus.Incomplete;
        }
        next = cr + 2;
        valid = RedisInteger.TryParse(data[(at + 1)..cr], out value);
        return ParseStatus.Complete;
    }

    private ParseStatus ParseInline(ReadOnlySpan<byte> data, Request request, out int consumed)
    {
        consumed = 0;
        var newline = IndexOfBeforeNul(data, (byte)'\n');
        if (newline < 0)
        {
            return data.Length > InlineMaxSize ? Fail("Protocol error: too big inline request") : ParseStatus.Incomplete;
        }
        var line = data[..newline];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        if (_inlineScratch.Length < line.Length)
        {
            _inlineScratch = new byte[Math.Max(line.Length, 256)];
        }
        request.Clear();
        if (!InlineSplitter.Split(line, _inlineScratch, request))
        {
            return Fail("Protocol error: unbalanced quotes in request");
        }
        consumed = newline + 1;
        if (request.Count == 0)
        {
            return ParseStatus.Skipped;
        }
        request.Bind(_inlineScratch, 0);
        return ParseStatus.Complete;
    }

    /// <summary>
    /// Redis finds line ends with strchr, which stops at a NUL byte: a NUL before the line end means "no line yet".
    /// </summary>
    private static int IndexOfBeforeNul(ReadOnlySpan<byte> data, byte value)
    {
        var index = data.IndexOfAny(value, (byte)0);
        return index >= 0 && data[index] == value ? index : -1;
    }

    private ParseStatus FailExpectedDollar(byte got)
    {
        // Redis formats the byte with %c and then turns CR/LF into spaces so the error stays one line.
        var c = got is (byte)'\r' or (byte)'\n' ? ' ' : (char)got;
        return Fail("Protocol error: expected '$', got '" + c + "'");
    }

    private ParseStatus Fail(string message)
    {
        Error = message;
        return ParseStatus.Error;
    }
}
