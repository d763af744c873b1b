using System.Text;
using Xunit;

namespace Tessera.Resp.Tests;

public class RespWriterTests
{
    private static string Written(int protocol, Action<RespWriter> write)
    {
        var writer = new RespWriter { Protocol = protocol };
        write(writer);
        var bytes = new List<byte>();
        while (!writer.IsEmpty)
        {
            var segment = writer.PeekFirst();
            bytes.AddRange(segment.ToArray());
            writer.Consume(segment.Length);
        }
        return Encoding.Latin1.GetString(bytes.ToArray());
    }

    [Theory]
    [InlineData(2, "$-1\r\n", "*-1\r\n", "*4\r\n", "*2\r\n", ":1\r\n", "$3\r\n1.5\r\n")]
    [InlineData(3, "_\r\n", "_\r\n", "%2\r\n", "~2\r\n", "#t\r\n", ",1.5\r\n")]
    public void Replies_follow_the_protocol_version(int protocol, string nullBulk, string nullArray, string map, string set, string boolean, string dbl)
    {
        Assert.Equal(nullBulk, Written(protocol, w => w.WriteNullBulk()));
        Assert.Equal(nullArray, Written(protocol, w => w.WriteNullArray()));
        Assert.Equal(map, Written(protocol, w => w.WriteMapHeader(2)));
        Assert.Equal(set, Written(protocol, w => w.WriteSetHeader(2)));
        Assert.Equal(boolean, Written(protocol, w => w.WriteBoolean(true)));
        Assert.Equal(dbl, Written(protocol, w => w.WriteDouble(1.5)));
    }

    [Fact]
    public void Integers_bulks_and_errors_are_encoded_as_Redis_does()
    {
        Assert.Equal(":-9223372036854775808\r\n", Written(2, w => w.WriteInteger(long.MinValue)));
        Assert.Equal("$5\r\nhello\r\n", Written(2, w => w.WriteBulk("hello"u8)));
        Assert.Equal("$0\r\n\r\n", Written(2, w => w.WriteBulk(""u8)));
        Assert.Equal("-ERR bad  input\r\n", Written(2, w => w.WriteError("ERR bad\r\ninput")));
        Assert.Equal("=8\r\ntxt:abcd\r\n", Written(3, w => w.WriteVerbatim("abcd"u8)));
        Assert.Equal("$4\r\nabcd\r\n", Written(2, w => w.WriteVerbatim("abcd"u8)));
    }

    [Fact]
    public void Large_bulks_span_chunks_and_arrive_intact()
    {
        var value = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        var text = Written(2, w => w.WriteBulk(value));
        Assert.Equal($"$100000\r\n{Encoding.Latin1.GetString(value)}\r\n", text);
    }

    [Fact]
    public void Truncating_drops_only_what_was_written_after_the_mark()
    {
        var writer = new RespWriter();
        writer.WriteInteger(1);
        var mark = writer.Length;
        writer.WriteBulk(new byte[40_000]);
        writer.TruncateTo(mark);
        Assert.Equal(mark, writer.Length);
        writer.WriteInteger(2);
        Assert.Equal(":1\r\n:2\r\n", Encoding.ASCII.GetString(writer.PeekFirst()));
    }

    [Fact]
    public void Moving_output_between_buffers_keeps_order_and_bytes()
    {
        var source = new RespWriter();
        source.WriteBulk(new byte[20_000]);
        source.Consume(3);
        var target = new RespWriter();
        target.WriteInteger(7);
        var expected = target.Length + source.Length;
        target.TakeFrom(source);
        Assert.True(source.IsEmpty);
        Assert.Equal(expected, target.Length);
        Assert.StartsWith(":7\r\n000\r\n", Encoding.ASCII.GetString(target.PeekFirst()));
    }
}
