using System.Diagnostics;

namespace Tessera.TestKit;

/// <summary>Kills a process a test started (with its children) if the test ends before the process does.</summary>
public sealed class ProcessGuard(Process process) : IDisposable
{
    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
