using System.Runtime.InteropServices;

namespace Tessera.Server.Persistence;

/// <summary>
/// Background saves yield the CPU to the threads serving clients: on a busy core the scheduler otherwise gives
/// the saving thread full time slices, which showed as milliseconds of client latency. On Linux, setpriority
/// with PRIO_PROCESS and 0 applies to the calling thread alone.
/// </summary>
internal static partial class BackgroundPriority
{
    /// <summary>The nice value of a saving thread: far below the event loops, still progressing on an idle core.</summary>
    private const int Nice = 15;

    /// <summary>Lowers the calling thread's priority; a no-op where it is not supported.</summary>
    public static void LowerCurrentThread()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SetPriority(0, 0, Nice);
        }
    }

    [LibraryImport("libc", SetLastError = true, EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);
}
