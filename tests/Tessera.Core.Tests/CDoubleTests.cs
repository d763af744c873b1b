using System.Text;
using Tessera.Core.Text;
using Xunit;

namespace Tessera.Core.Tests;

public class CDoubleTests
{
    [Theory]
    [InlineData("3", 3.0, 1)]
    [InlineData(" \t1.5", 1.5, 5)]
    [InlineData("+5", 5.0, 2)]
    [InlineData(".5", 0.5, 2)]
    [InlineData("5.", 5.0, 2)]
    [InlineData("-2e3", -2000.0, 4)]
    [InlineData("1e", 1.0, 1)]
    [InlineData("1e+", 1.0, 1)]
    [InlineData("0x10", 16.0, 4)]
    [InlineData("0x1.8p1", 3.0, 7)]
    [InlineData("0x", 0.0, 1)]
    [InlineData("0xg", 0.0, 1)]
    [InlineData("inf", double.PositiveInfinity, 3)]
    [InlineData("-Infinity", double.NegativeInfinity, 9)]
    [InlineData("1\n", 1.0, 1)]
    [InlineData("12abc", 12.0, 2)]
    public void Reads_the_longest_prefix_strtod_reads(string text, double expected, int consumed)
    {
        var value = CDouble.ParsePrefix(Encoding.ASCII.GetBytes(text), out var length, out var outOfRange);
        Assert.Equal(expected, value);
        Assert.Equal(consumed, length);
        Assert.False(outOfRange);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("abc")]
    [InlineData("e5")]
    public void Nothing_to_read_consumes_nothing(string text)
    {
        Assert.Equal(0, CDouble.ParsePrefix(Encoding.ASCII.GetBytes(text), out var length, out _));
        Assert.Equal(0, length);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e-400")]
    [InlineData("1e-310")]
    [InlineData("0x1p-1080")]
    public void Overflow_and_underflow_are_out_of_range(string text)
    {
        CDouble.ParsePrefix(Encoding.ASCII.GetBytes(text), out var length, out var outOfRange);
        Assert.Equal(text.Length, length);
        Assert.True(outOfRange);
    }

    [Fact]
    public void Nan_is_read_with_its_payload()
    {
        Assert.True(double.IsNaN(CDouble.ParsePrefix("nan(123)"u8, out var length, out _)));
        Assert.Equal(8, length);
    }
}
