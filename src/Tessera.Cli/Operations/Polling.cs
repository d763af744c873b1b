using System.Diagnostics;

namespace Tessera.Cli.Operations;

/// <summary>Waiting for a server-side condition, as the operations tools do between their steps.</summary>
internal static class Polling
{
    /// <summary>Checks <paramref name="condition"/> every <paramref name="interval"/> until it holds; throws <see cref="TimeoutException"/> with <paramref name="failure"/> after <paramref name="timeout"/>.</summary>
    public static void WaitFor(Func<bool> condition, TimeSpan timeout, string failure, TimeSpan interval)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(failure);
            }
            Thread.Sleep(interval);
        }
    }
}
