using System.Text;
using Tessera.Resp;
using Tessera.Server.Replication;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>The replication backlog's ring: offsets as Redis counts them, wrap-around, what it can still serve.</summary>
public sealed class ReplicationBacklogTests
{
    private static OutputBuffer Bytes(string text)
    {
        var buffer = new RespWriter();
        buffer.WriteRaw(Encoding.ASCII.GetBytes(text));
        return buffer;
    }

    private static string From(ReplicationBacklog backlog, long offset)
    {
        var output = new RespWriter();
        backlog.CopyFrom(offset, output);
        var bytes = new byte[output.Length];
        output.CopyTo(bytes);
        return Encoding.ASCII.GetString(bytes);
    }

    [Fact]
    public void Holds_the_newest_bytes_and_serves_any_offset_within_them()
    {
        var backlog = new ReplicationBacklog(size: 8, endOffset: 100);
        Assert.True(backlog.Covers(101));
        Assert.False(backlog.Covers(100));
        backlog.Append(Bytes("abcde"));
        Assert.Equal(105, backlog.EndOffset);
        Assert.Equal(101, backlog.FirstOffset);
        Assert.Equal("abcde", From(backlog, 101));
        Assert.Equal("de", From(backlog, 104));
        Assert.Equal("", From(backlog, 106));

        // Wrapping: the oldest bytes go, the offsets keep counting.
        backlog.Append(Bytes("fghij"));
        Assert.Equal(8, backlog.Length);
        Assert.Equal(103, backlog.FirstOffset);
        Assert.False(backlog.Covers(102));
        Assert.True(backlog.Covers(103));
        Assert.Equal("cdefghij", From(backlog, 103));
        Assert.Equal("hij", From(backlog, 108));

        // A write larger than the ring keeps its tail.
        backlog.Append(Bytes("0123456789AB"));
        Assert.Equal(122, backlog.EndOffset);
        Assert.Equal("456789AB", From(backlog, 115));
        Assert.False(backlog.Covers(114));
    }
}
