using System.Text;
using Tessera.Core.Text;
using Xunit;

namespace Tessera.Core.Tests;

public class GlobPatternTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("*", "", false)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h\\*llo", "h*llo", true)]
    [InlineData("h\\*llo", "hello", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("[", "[", false)]
    [InlineData("[a", "a", true)]
    [InlineData("key:*", "key:", true)]
    [InlineData("*a", "", false)]
    public void Patterns_match_as_in_Redis(string pattern, string text, bool expected)
        => Assert.Equal(expected, GlobPattern.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Matching_can_ignore_case()
    {
        Assert.True(GlobPattern.IsMatch("MAX*"u8, "maxmemory"u8, ignoreCase: true));
        Assert.False(GlobPattern.IsMatch("MAX*"u8, "maxmemory"u8));
    }

    [Fact]
    public void Hostile_patterns_finish_quickly()
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a*", 40)) + "b");
        var text = Encoding.ASCII.GetBytes(new string('a', 200));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(GlobPattern.IsMatch(pattern, text));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
    }
}
