using System.Buffers.Text;
using Tessera.Proxy.Networking;
using Tessera.Proxy.Protocol;
using Tessera.Resp;

namespace Tessera.Proxy.Routing;

/// <summary>
/// SCAN through the proxy walks the backends one after the other. The cursor the client sees carries both parts:
/// the backend's own cursor shifted left, the backend's index in the low bits. A backend's cursor 0 moves on to the
/// next backend; the last one's 0 ends the scan with 0, as a single Redis would.
/// </summary>
internal readonly record struct ScanCursor(int Server, int Servers)
{
    /// <summary>Sends the client's SCAN to the backend its cursor names, with that backend's own cursor.</summary>
    public static void Forward(RequestRouter router, ClientConnection client)
    {
        var request = client.Request;
        var servers = client.Pool.Backends.Count;
        var shift = ShiftFor(servers);
        if (!Utf8Parser.TryParse(request[1], out ulong cursor, out var used) || used != request[1].Length)
        {
            router.Local(client).WriteError("ERR invalid cursor");
            return;
        }
        var server = (int)(cursor & ((1UL << shift) - 1));
        if (server >= servers)
        {
            router.Local(client).WriteError("ERR invalid cursor");
            return;
        }
        var reply = router.Begin(client, ReplyMerge.Scan, 1);
        reply.ExpectScan(new ScanCursor(server, servers));
        if (router.ConnectionFor(client.Pool, server, reply, 0) is not { } connection)
        {
            return;
        }
        var output = connection.Output;
        output.WriteArrayHeader(request.Count);
        output.WriteBulk(request[0]);
        output.WriteBulk((long)(cursor >> shift));
        for (var i = 2; i < request.Count; i++)
        {
            output.WriteBulk(request[i]);
        }
        router.Backends.Send(connection, reply, 0);
    }

    /// <summary>Rewrites the backend's [cursor, keys] reply with the composite cursor; false if it is not one.</summary>
    public bool WriteReply(ReadOnlySpan<byte> backendReply, RespWriter reply)
    {
        if (!ReplyScanner.TryReadArrayHeader(backendReply, out var count, out var first) || count != 2)
        {
            return false;
        }
        var cursorLength = ReplyScanner.Measure(backendReply[first..]);
        var cursorReply = backendReply.Slice(first, Math.Max(cursorLength, 0));
        var digits = cursorReply.Length > 0 ? cursorReply[(cursorReply.IndexOf((byte)'\n') + 1)..^2] : default;
        if (cursorLength <= 0 || !Utf8Parser.TryParse(digits, out ulong cursor, out _))
        {
            return false;
        }
        var shift = ShiftFor(Servers);
        var next = cursor != 0 ? (cursor << shift) | (uint)Server
            : Server + 1 < Servers ? (ulong)(Server + 1)
            : 0;
        reply.WriteArrayHeader(2);
        reply.WriteBulk(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
        reply.WriteRaw(backendReply[(first + cursorLength)..]);
        return true;
    }

    /// <summary>Bits that hold a backend index.</summary>
    private static int ShiftFor(int servers) => Math.Max(1, 32 - int.LeadingZeroCount(servers - 1));
}
