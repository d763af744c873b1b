using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// Every script in Oracle/*.redis runs against redis-server and Tessera; every reply must be byte-for-byte equal.
/// </summary>
[Collection(OracleCollection.Name)]
public class OracleScriptTests(OracleFixture fixture)
{
    public static IEnumerable<object[]> Scripts() => OracleScript.Bundled();

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_replies_match_redis(string script)
    {
        using var oracle = fixture.NewOracle();
        oracle.Run(OracleScript.LoadBundled(script));
    }
}
