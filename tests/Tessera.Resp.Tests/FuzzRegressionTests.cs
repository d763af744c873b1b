using Xunit;

namespace Tessera.Resp.Tests;

/// <summary>
/// Inputs kept from fuzzing the request parser (Fuzz/*.bin): each must parse without throwing, and identically
/// whether it arrives at once or a byte at a time.
/// </summary>
public class FuzzRegressionTests
{
    public static IEnumerable<object[]> Cases()
        => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fuzz"), "*.bin").Order().Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kept_inputs_parse_consistently(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzz", file));
        Assert.Equal(RequestParserProperties.Outcome(bytes, [bytes.Length + 1]), RequestParserProperties.Outcome(bytes, [1]));
    }
}
