using System.Runtime.InteropServices;

namespace Tessera.TestKit;

/// <summary>POSIX signals to a process this test started (SIGSTOP/SIGCONT simulate a hung host).</summary>
public static partial class Signals
{
    public const int Stop = 19;
    public const int Cont = 18;
    public const int Hangup = 1;

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
