using System.Text;
using Tessera.Core.Distribution;
using Tessera.Core.Hashing;
using Xunit;

namespace Tessera.Core.Tests;

/// <summary>
/// Published check values of the standard functions twemproxy builds on, and the quirks it adds; the proxy's
/// placement oracle test compares the whole chain with nutcracker itself.
/// </summary>
public sealed class NutcrackerHashTests
{
    private static uint Hash(NutcrackerHashKind kind, string key) => NutcrackerHash.Compute(kind, Encoding.Latin1.GetBytes(key));

    [Fact]
    public void Standard_functions_give_their_published_values()
    {
        Assert.Equal(0xCBF43926u, Hash(NutcrackerHashKind.Crc32a, "123456789"));
        Assert.Equal(0xe40c292cu, Hash(NutcrackerHashKind.Fnv1a_32, "a"));
        Assert.Equal(0x050c5d7eu, Hash(NutcrackerHashKind.Fnv1_32, "a"));
        // FNV-1 64 of "a" is 0xaf63bd4c8601b7be; twemproxy keeps the low word.
        Assert.Equal(0x8601b7beu, Hash(NutcrackerHashKind.Fnv1_64, "a"));
        Assert.Equal(0xca2e9442u, Hash(NutcrackerHashKind.OneAtATime, "a"));
        // MD5("a") = 0cc175b9...: the first four bytes read little-endian.
        Assert.Equal(0xb975c10cu, Hash(NutcrackerHashKind.Md5, "a"));
    }

    [Fact]
    public void Twemproxy_quirks_are_kept()
    {
        // crc32 is libmemcached's: 15 bits of the inverted CRC's high half.
        Assert.Equal(0x4BF4u, Hash(NutcrackerHashKind.Crc32, "123456789"));
        // crc16 is XMODEM carried in 32 bits: the low half is Redis Cluster's CRC16, the high half is not cleared.
        var crc16 = Hash(NutcrackerHashKind.Crc16, "123456789");
        Assert.Equal(0x31C3u, crc16 & 0xFFFF);
        Assert.NotEqual(0u, crc16 >> 16);
        // fnv1a_64 runs in 32 bits with truncated constants: for "a", (0x84222325 ^ 0x61) * 0x1b3.
        Assert.Equal(unchecked((0x84222325u ^ 0x61u) * 0x1b3u), Hash(NutcrackerHashKind.Fnv1a_64, "a"));
        // A byte above 0x7f is sign-extended: 0xFF mixes in as 0xFFFFFFFF.
        Assert.Equal(unchecked((2166136261u ^ 0xFFFFFFFFu) * 16777619u), Hash(NutcrackerHashKind.Fnv1a_32, "\u00ff"));
        Assert.Equal(0u, NutcrackerHash.Compute(NutcrackerHashKind.Hsieh, []));
    }

    [Theory]
    [InlineData("user:{42}:name", "42")]
    [InlineData("{}key", "{}key")]
    [InlineData("a{b", "a{b")]
    [InlineData("x{first}{second}", "first")]
    [InlineData("plain", "plain")]
    public void Hash_tag_picks_the_part_between_the_first_open_and_the_next_close(string key, string hashed)
    {
        var placement = new KeyPlacement(NutcrackerHashKind.Md5, "{}", DistributionKind.Ketama, 2, [new(0, "a", 1), new(1, "b", 1)]);
        Assert.Equal(hashed, Encoding.ASCII.GetString(placement.HashedPart(Encoding.ASCII.GetBytes(key))));
    }

    [Fact]
    public void Ketama_gives_equal_servers_160_points_and_weighted_ones_their_share()
    {
        Assert.Equal(4 * 160, KetamaRing.Build([new(0, "a", 1), new(1, "b", 1), new(2, "c", 1), new(3, "d", 1)]).Count);
        // Weights 1 and 3 over 2 servers: floor(0.25 * 40 * 2) * 4 = 80 and floor(0.75 * 40 * 2) * 4 = 240.
        Assert.Equal(320, KetamaRing.Build([new(0, "a", 1), new(1, "b", 3)]).Count);
    }

    [Fact]
    public void Modula_repeats_servers_by_weight_and_an_empty_pool_places_nothing()
    {
        var table = ModulaTable.Build([new(0, "a", 1), new(2, "c", 2)]);
        Assert.Equal([0, 2, 2, 0], new uint[] { 0, 1, 2, 3 }.Select(table.Locate));
        Assert.Equal(-1, new KeyPlacement(NutcrackerHashKind.Md5, "", DistributionKind.Modula, 3, []).Locate("k"u8));
    }
}

/// <summary>Tessera's two distributions beyond twemproxy's: Codis-style slot tables and key-id ranges.</summary>
public sealed class SlotAndRangeTableTests
{
    [Fact]
    public void Slot_tables_use_crc32_for_1024_slots_and_cluster_crc16_for_16384()
    {
        var codis = new SlotTable(1024, [0, 1, 2, 3]);
        // crc32("123456789") = 0xCBF43926; mod 1024 = 294, in the second quarter.
        Assert.Equal(294, codis.SlotOf("123456789"u8));
        Assert.Equal(1, codis.Locate("123456789"u8));
        var cluster = new SlotTable(16384, [0, 1, 2, 3]);
        Assert.Equal(0x31C3, cluster.SlotOf("123456789"u8));
        Assert.Equal(3, cluster.Locate("123456789"u8));
        // Servers are dealt slots in the order given, not in pool order.
        Assert.Equal(2, new SlotTable(1024, [2, 0]).Locate([]));
    }

    [Fact]
    public void Ranges_place_keys_by_their_first_number()
    {
        var table = new RangeTable([(0, 999, 0), (2000, long.MaxValue, 2), (1000, 1999, 1)]);
        Assert.Equal(1, table.Locate("user:1234:profile"u8));
        Assert.Equal(0, table.Locate("42"u8));
        Assert.Equal(2, table.Locate("order-7000000"u8));
        Assert.Equal(-1, table.Locate("no-digits"u8));
        Assert.Equal(-1, table.Locate("user:99999999999999999999"u8));
        Assert.True(RangeTable.TryParseRange("20000-", out var low, out var high));
        Assert.Equal((20000L, long.MaxValue), (low, high));
        Assert.False(RangeTable.TryParseRange("5-1", out _, out _));
        Assert.False(RangeTable.TryParseRange("-5", out _, out _));
    }

    [Fact]
    public void Fixed_tables_do_not_move_keys_of_a_dead_server_elsewhere()
    {
        var ranges = new RangeTable([(0, 99, 0), (100, 199, 1)]);
        var placement = new KeyPlacement(NutcrackerHashKind.Md5, "{}", DistributionKind.Range, 2, [new(1, "b", 1)], ranges: ranges);
        Assert.Equal(-1, placement.Locate("user:5"u8));
        Assert.Equal(1, placement.Locate("user:{150}:x"u8));
    }
}
