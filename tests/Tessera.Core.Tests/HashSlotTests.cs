using System.Text;
using Tessera.Core.Hashing;
using Xunit;

namespace Tessera.Core.Tests;

public class HashSlotTests
{
    [Fact]
    public void Crc16_matches_the_XMODEM_check_value() => Assert.Equal(0x31C3, Crc16.Compute("123456789"u8));

    [Fact]
    public void Crc64_matches_redis_check_value_and_continues_across_chunks()
    {
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64.Compute("123456789"u8));
        Assert.Equal(Crc64.Compute("123456789"u8), Crc64.Compute("6789"u8, Crc64.Compute("12345"u8)));
    }

    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("", 0)]
    [InlineData("key:000000000001", 8924)]
    public void Slots_match_Redis_cluster(string key, int slot) => Assert.Equal(slot, HashSlot.Of(Encoding.ASCII.GetBytes(key)));

    [Theory]
    [InlineData("{user1000}.following", "user1000")]
    [InlineData("{user1000}.followers", "user1000")]
    [InlineData("foo{}{bar}", "foo{}{bar}")]
    [InlineData("foo{{bar}}zap", "{bar")]
    [InlineData("foo{bar}{zap}", "bar")]
    [InlineData("{}", "{}")]
    [InlineData("no-tag", "no-tag")]
    [InlineData("open{only", "open{only")]
    public void Hash_tags_follow_the_cluster_specification(string key, string hashed)
        => Assert.Equal(hashed, Encoding.ASCII.GetString(HashSlot.HashedPart(Encoding.ASCII.GetBytes(key))));

    [Fact]
    public void Keys_with_the_same_tag_share_a_slot()
        => Assert.Equal(HashSlot.Of("{user1000}.following"u8), HashSlot.Of("{user1000}.followers"u8));

    [Fact]
    public void The_table_hash_depends_on_every_byte_and_the_seed()
    {
        var a = KeyHash.Compute("key:000000000001"u8, 1);
        Assert.NotEqual(a, KeyHash.Compute("key:000000000002"u8, 1));
        Assert.NotEqual(a, KeyHash.Compute("key:000000000001"u8, 2));
        Assert.Equal(a, KeyHash.Compute("key:000000000001"u8, 1));
        var lengths = Enumerable.Range(0, 100).Select(n => KeyHash.Compute(new byte[n], 7)).Distinct().Count();
        Assert.Equal(100, lengths);
    }

    [Theory]
    [InlineData("5", 5, 5)]
    [InlineData("0-5460", 0, 5460)]
    [InlineData("16383", 16383, 16383)]
    public void Slot_ranges_read_as_cluster_nodes_writes_them(string text, int start, int end)
        => Assert.Equal((start, end), HashSlot.ParseRange(text));

    [Theory]
    [InlineData("16384")]
    [InlineData("9-3")]
    [InlineData("-1")]
    [InlineData("1-")]
    [InlineData("a")]
    public void Anything_else_is_not_a_slot_range(string text)
        => Assert.Throws<FormatException>(() => HashSlot.ParseRange(text));

    [Fact]
    public void Open_slot_marks_read_as_cluster_nodes_writes_them()
    {
        var id = new string('a', 40);
        Assert.Equal((5000, true, id), HashSlot.ParseOpenSlot($"[5000->-{id}]"));
        Assert.Equal((7, false, id), HashSlot.ParseOpenSlot($"[7-<-{id}]"));
        foreach (var bad in new[] { "[16384->-" + id + "]", "5000->-" + id, "[5000->-]", "[x-<-" + id + "]", "[5000]" })
        {
            Assert.Throws<FormatException>(() => HashSlot.ParseOpenSlot(bad));
        }
    }
}
