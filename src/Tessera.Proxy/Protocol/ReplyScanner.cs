using Tessera.Resp;

namespace Tessera.Proxy.Protocol;

/// <summary>
/// Finds where one RESP reply ends without decoding it, so the proxy can pass backend replies through as bytes.
/// Knows RESP2 and the RESP3 types (backends are spoken to in RESP2, but a reply never surprises the scanner).
/// </summary>
public static class ReplyScanner
{
    /// <summary>Length of the reply at the start of <paramref name="data"/>: 0 when incomplete, -1 when malformed.</summary>
    public static int Measure(ReadOnlySpan<byte> data) => Measure(data, 0, depth: 0);

    /// <summary>
    /// For a complete array reply: its element count (-1 for a nil array) and where the first element starts.
    /// False for a reply that is not an array.
    /// </summary>
    public static bool TryReadArrayHeader(ReadOnlySpan<byte> reply, out int count, out int firstElement)
    {
        count = 0;
        firstElement = 0;
        if (reply.IsEmpty || reply[0] != (byte)'*')
        {
            return false;
        }
        var lineEnd = reply.IndexOf((byte)'\r');
        if (lineEnd < 0 || !RedisInteger.TryParse(reply[1..lineEnd], out var n))
        {
            return false;
        }
        count = (int)n;
        firstElement = lineEnd + 2;
        return true;
    }

    /// <summary>True when the reply is an error (- or !).</summary>
    public static bool IsError(ReadOnlySpan<byte> reply) => !reply.IsEmpty && reply[0] is (byte)'-' or (byte)'!';

    /// <summary>The value of an integer reply (":n"), or false.</summary>
    public static bool TryReadInteger(ReadOnlySpan<byte> reply, out long value)
    {
        value = 0;
        return reply.Length > 3 && reply[0] == (byte)':' && RedisInteger.TryParse(reply[1..^2], out value);
    }

    private static int Measure(ReadOnlySpan<byte> data, int at, int depth)
    {
        if (at >= data.Length)
        {
            return 0;
        }
        if (depth > 64)
        {
            return -1;
        }
        var lineEnd = data[at..].IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return 0;
        }
        lineEnd += at;
        if (lineEnd == at || data[lineEnd - 1] != (byte)'\r')
        {
            return -1;
        }
        var afterLine = lineEnd + 1;
        var type = data[at];
        switch (type)
        {
            case (byte)'+' or (byte)'-' or (byte)':' or (byte)'_' or (byte)',' or (byte)'#' or (byte)'(':
                return afterLine - at;
            case (byte)'$' or (byte)'!' or (byte)'=':
                {
                    if (!RedisInteger.TryParse(data[(at + 1)..(lineEnd - 1)], out var length) || length < -1)
                    {
                        return -1;
                    }
                    if (length == -1)
                    {
                        return afterLine - at;
                    }
                    var end = afterLine + length + 2;
                    return end > data.Length ? 0 : (int)(end - at);
                }
            case (byte)'*' or (byte)'%' or (byte)'~' or (byte)'>' or (byte)'|':
                {
                    if (!RedisInteger.TryParse(data[(at + 1)..(lineEnd - 1)], out var count) || count < -1)
                    {
                        return -1;
                    }
                    // Maps and attributes carry two replies per entry.
                    var elements = type is (byte)'%' or (byte)'|' ? count * 2 : count;
                    var position = afterLine;
                    for (long i = 0; i < elements; i++)
                    {
                        var length = Measure(data, position, depth + 1);
                        if (length <= 0)
                        {
                            return length;
                        }
                        position += length;
                    }
                    if (type == (byte)'|')
                    {
                        // An attribute precedes the reply it annotates.
                        var annotated = Measure(data, position, depth + 1);
                        return annotated <= 0 ? annotated : position + annotated - at;
                    }
                    return position - at;
                }
            default:
                return -1;
        }
    }
}
