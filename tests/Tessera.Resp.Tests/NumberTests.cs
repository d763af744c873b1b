using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Tessera.Resp.Tests;

public class NumberTests
{
    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("-1", true, -1L)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("-0", false, 0L)]
    [InlineData("01", false, 0L)]
    [InlineData("+1", false, 0L)]
    [InlineData(" 1", false, 0L)]
    [InlineData("1 ", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData("1.0", false, 0L)]
    public void Integers_parse_with_Redis_strict_rules(string text, bool ok, long value)
    {
        Assert.Equal(ok, RedisInteger.TryParse(Encoding.ASCII.GetBytes(text), out var parsed));
        if (ok)
        {
            Assert.Equal(value, parsed);
        }
    }

    [Fact]
    public void Every_integer_formats_and_parses_back()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<long>(), value =>
        {
            Span<byte> text = stackalloc byte[RedisInteger.MaxLength];
            var n = RedisInteger.Format(value, text);
            return RedisInteger.TryParse(text[..n], out var parsed) && parsed == value
                && Encoding.ASCII.GetString(text[..n]) == value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(1.1, "1.1000000000000001")]
    [InlineData(0.1, "0.10000000000000001")]
    [InlineData(1.5, "1.5")]
    [InlineData(100.0, "100")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e17, "1e+17")]
    [InlineData(12345678901234567.0, "12345678901234568")]
    [InlineData(1e-5, "1.0000000000000001e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(-0.0, "-0")]
    [InlineData(0.0, "0")]
    [InlineData(-2.5e-300, "-2.5e-300")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Doubles_format_like_C_percent_17g(double value, string expected)
    {
        Span<byte> text = stackalloc byte[RedisDouble.MaxLength];
        Assert.Equal(expected, Encoding.ASCII.GetString(text[..RedisDouble.Format(value, text)]));
    }

    [Theory]
    [InlineData("1.5", true, 1.5)]
    [InlineData("-inf", true, double.NegativeInfinity)]
    [InlineData("+Infinity", true, double.PositiveInfinity)]
    [InlineData("1e3", true, 1000.0)]
    [InlineData(".5", true, 0.5)]
    [InlineData("nan", false, 0.0)]
    [InlineData(" 1", false, 0.0)]
    [InlineData("1x", false, 0.0)]
    [InlineData("", false, 0.0)]
    public void Doubles_parse_like_strtod_with_Redis_checks(string text, bool ok, double value)
    {
        Assert.Equal(ok, RedisDouble.TryParse(Encoding.ASCII.GetBytes(text), out var parsed));
        if (ok)
        {
            Assert.Equal(value, parsed);
        }
    }
}
