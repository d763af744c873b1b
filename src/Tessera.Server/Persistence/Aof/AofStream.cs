using System.Buffers;
using System.Text;
using Tessera.Resp;

namespace Tessera.Server.Persistence.Aof;

/// <summary>
/// What reading an AOF's commands found: where the last complete command outside a transaction ends
/// (<see cref="ValidUpTo"/>), whether anything after it was left incomplete (a torn tail), whether the file
/// ended inside MULTI, and the first format error (reading stops there).
/// </summary>
internal readonly record struct AofReadResult(long ValidUpTo, long End, bool Torn, bool OpenTransaction, string? Error);

/// <summary>
/// Reads the commands of an AOF (RESP multibulk arrays, with "#..." annotation lines such as
/// <c>aof-timestamp-enabled</c>'s) from a stream's position to its end, handing each to a callback: the
/// loader runs them, check-aof only counts them.
/// </summary>
internal static class AofStream
{
    private const int ReadSize = 1 << 16;

    /// <summary>
    /// Reads every command, calling <paramref name="apply"/> for each; a non-null return from it (a command that
    /// cannot run) stops reading as a format error.
    /// </summary>
    public static AofReadResult Read(Stream stream, Func<Request, string?> apply)
    {
        var parser = new RequestParser { MaxBulkLength = long.MaxValue };
        var request = new Request();
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        var start = 0;
        var end = 0;
        var offset = stream.Position;
        var validUpTo = offset;
        var inTransaction = false;
        var eof = false;
        try
        {
            while (start < end || !eof)
            {
                var consumed = 0;
                var status = start == end ? ParseStatus.Incomplete : Next(parser, buffer, start, end, request, out consumed);
                if (status == ParseStatus.Incomplete)
                {
                    if (eof)
                    {
                        break;
                    }
                    (buffer, start, end) = Fill(stream, buffer, start, end, parser.BytesNeeded, ref eof);
                    continue;
                }
                if (status == ParseStatus.Error)
                {
                    return new AofReadResult(validUpTo, offset, false, inTransaction, "Bad file format");
                }
                if (status == ParseStatus.Complete && apply(request) is { } error)
                {
                    return new AofReadResult(validUpTo, offset, false, inTransaction, error);
                }
                start += consumed;
                offset += consumed;
                if (status == ParseStatus.Complete && IsCommand(request, "multi"u8))
                {
                    inTransaction = true;
                }
                else if (status == ParseStatus.Complete && (IsCommand(request, "exec"u8) || IsCommand(request, "discard"u8)))
                {
                    inTransaction = false;
                }
                if (!inTransaction)
                {
                    validUpTo = offset;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new AofReadResult(validUpTo, offset + (end - start), offset != validUpTo || start != end, inTransaction, null);
    }

    /// <summary>
    /// The next command: a "#..." line is an annotation and is skipped like an empty command; anything but a
    /// multibulk array is not an AOF.
    /// </summary>
    private static ParseStatus Next(RequestParser parser, byte[] buffer, int start, int end, Request request, out int consumed)
    {
        consumed = 0;
        if (!parser.InProgress && buffer[start] == (byte)'#')
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline < 0)
            {
                return ParseStatus.Incomplete;
            }
            consumed = newline + 1;
            return ParseStatus.Skipped;
        }
        if (!parser.InProgress && buffer[start] != (byte)'*')
        {
            return ParseStatus.Error;
        }
        return parser.Parse(buffer, start, end, request, out consumed);
    }

    /// <summary>Reads more of the stream after the unparsed bytes, growing the buffer for a large command.</summary>
    private static (byte[] Buffer, int Start, int End) Fill(Stream stream, byte[] buffer, int start, int end, long needed, ref bool eof)
    {
        var pending = end - start;
        var size = (int)Math.Min(Array.MaxLength, Math.Max(buffer.Length, Math.Max(needed, pending) + ReadSize));
        if (size > buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(size);
            Buffer.BlockCopy(buffer, start, larger, 0, pending);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }
        else if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, pending);
        }
        var read = stream.Read(buffer, pending, buffer.Length - pending);
        eof = read == 0;
        return (buffer, 0, pending + read);
    }

    private static bool IsCommand(Request request, ReadOnlySpan<byte> name) => request.Count > 0 && Ascii.EqualsIgnoreCase(request[0], name);
}
