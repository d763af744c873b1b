using Tessera.TestKit;

namespace Tessera.Server.Tests;

/// <summary>A redis-server and a Tessera node of the test's own, both with DEBUG enabled, for tests comparing digests.</summary>
public abstract class DebugEnabledServers : IDisposable
{
    protected RedisServerProcess Redis { get; } = new("--enable-debug-command", "yes");

    protected TesseraNode Tessera { get; } = new("--enable-debug-command", "yes");

    public void Dispose()
    {
        Redis.Dispose();
        Tessera.Dispose();
        GC.SuppressFinalize(this);
    }
}
