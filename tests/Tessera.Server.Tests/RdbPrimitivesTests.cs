using System.Text;
using Tessera.Server.Persistence.Rdb;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>RDB building blocks: LZF, lengths and string encodings survive a round trip; bad input is refused.</summary>
public class RdbPrimitivesTests
{
    public static IEnumerable<object[]> Inputs()
    {
        var random = new Random(7);
        yield return [Array.Empty<byte>()];
        yield return ["a"u8.ToArray()];
        yield return [Encoding.ASCII.GetBytes(new string('a', 1000))];
        yield return [Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("hello world, ", 500)))];
        var noise = new byte[5000];
        random.NextBytes(noise);
        yield return [noise];
        var mixed = new byte[70_000];
        for (var i = 0; i < mixed.Length; i++)
        {
            mixed[i] = (byte)(random.Next(4) == 0 ? random.Next(256) : 'x' + (i % 7));
        }
        yield return [mixed];
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Lzf_round_trips(byte[] input)
    {
        // LZF's worst case: one control byte per 32 literals.
        var compressed = new byte[input.Length + (input.Length / 32) + 1];
        var length = Lzf.Compress(input, compressed);
        Assert.True(length > 0 || input.Length == 0);
        var output = new byte[input.Length];
        Assert.Equal(input.Length, Lzf.Decompress(compressed.AsSpan(0, length), output));
        Assert.Equal(input, output);
    }

    [Fact]
    public void Lzf_reports_what_does_not_fit_or_does_not_decode()
    {
        var noise = new byte[100];
        new Random(1).NextBytes(noise);
        Assert.Equal(0, Lzf.Compress(noise, new byte[50]));
        Assert.Equal(-1, Lzf.Decompress([0x05, (byte)'a'], new byte[10]));
        Assert.Equal(-1, Lzf.Decompress([0x20, 0x05], new byte[10]));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("127")]
    [InlineData("128")]
    [InlineData("-32768")]
    [InlineData("2147483647")]
    [InlineData("2147483648")]
    [InlineData("01")]
    [InlineData("-0")]
    [InlineData("")]
    [InlineData("a-string-long-enough-to-try-compression-aaaaaaaaaaaaaaaaaaaa")]
    public void Strings_round_trip_in_every_encoding(string text)
    {
        foreach (var compress in new[] { true, false })
        {
            using var buffer = new MemoryStream();
            var writer = new RdbWriter(buffer, compress);
            writer.WriteString(Encoding.ASCII.GetBytes(text));
            foreach (var length in new ulong[] { 0, 63, 64, 16383, 16384, uint.MaxValue, (ulong)uint.MaxValue + 1 })
            {
                writer.WriteLength(length);
            }
            buffer.Position = 0;
            var reader = new RdbReader(buffer);
            Assert.Equal(text, Encoding.ASCII.GetString(reader.ReadString()));
            foreach (var length in new ulong[] { 0, 63, 64, 16383, 16384, uint.MaxValue, (ulong)uint.MaxValue + 1 })
            {
                Assert.Equal(length, reader.ReadLength());
            }
            Assert.Equal(writer.Checksum, reader.Checksum);
        }
    }

    [Fact]
    public void Short_canonical_integers_take_their_compact_encoding()
    {
        using var buffer = new MemoryStream();
        var writer = new RdbWriter(buffer, compress: true);
        writer.WriteString("-2"u8);
        writer.WriteString("1000"u8);
        writer.WriteString("01"u8);
        Assert.Equal(new byte[] { 0xc0, 0xfe, 0xc1, 0xe8, 0x03, 0x02, (byte)'0', (byte)'1' }, buffer.ToArray());
    }

    [Fact]
    public void A_truncated_or_oversized_string_is_a_format_error()
    {
        Assert.Throws<RdbFormatException>(() => new RdbReader(new MemoryStream([0x05, (byte)'a'])).ReadString());
        Assert.Throws<RdbFormatException>(() => new RdbReader(new MemoryStream([0x80, 0x7f, 0xff, 0xff, 0xff, (byte)'a'])).ReadString());
        Assert.Throws<RdbFormatException>(() => new RdbReader(new MemoryStream([0xc5])).ReadString());
    }

    [Fact]
    public void Values_in_the_ziplist_and_zipmap_forms_of_older_redis_load()
    {
        byte[] ziplist = [27, 0, 0, 0, 19, 0, 0, 0, 4, 0, 0x00, 0x01, (byte)'a', 0x03, 0xfd, 0x02, 0xc0, 0x18, 0xfc, 0x04, 0x05, .. "hello"u8, 0xff];
        var list = (Storage.Types.ListValue)Load(RdbValues.TypeListZiplist, ziplist);
        var elements = new List<string>();
        list.Visit(0, backwards: false, ref elements, static (e, _, ref l) =>
        {
            l.Add(Encoding.ASCII.GetString(e));
            return true;
        });
        Assert.Equal(["a", "12", "-1000", "hello"], elements);

        byte[] zipmap = [0x01, 0x01, (byte)'f', 0x01, 0x00, (byte)'v', 0xff];
        var hash = (Storage.Types.HashValue)Load(RdbValues.TypeHashZipmap, zipmap);
        Assert.True(hash.TryGet("f"u8, out var value));
        Assert.Equal("v", Encoding.ASCII.GetString(value));

        Assert.Throws<RdbFormatException>(() => Load(RdbValues.TypeListZiplist, ziplist[..^1]));
    }

    private static object Load(byte type, byte[] blob)
    {
        using var buffer = new MemoryStream();
        new RdbWriter(buffer, compress: false).WriteString(blob);
        buffer.Position = 0;
        return RdbValues.Read(new RdbReader(buffer), type, "k"u8.ToArray(), new Config.ServerConfig());
    }
}
