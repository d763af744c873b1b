using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>One redis-server (the reference) and one Tessera node, shared by the oracle tests.</summary>
public sealed class OracleFixture : IDisposable
{
    public OracleFixture()
    {
        // DEBUG's replies are compared too (Oracle/debug.redis).
        Redis = new RedisServerProcess("--enable-debug-command", "yes");
        Tessera = new TesseraNode("--enable-debug-command", "yes");
    }

    public RedisServerProcess Redis { get; }

    public TesseraNode Tessera { get; }

    public Oracle NewOracle() => new(Redis.Port, Tessera.Port);

    public void Dispose()
    {
        Redis.Dispose();
        Tessera.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class OracleCollection : ICollectionFixture<OracleFixture>
{
    public const string Name = "oracle";
}
