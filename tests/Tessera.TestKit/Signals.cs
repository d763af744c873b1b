using System.Runtime.InteropServices;

namespace Tessera.TestKit;

/// <summary>POSIX signals to a process this test started (SIGSTOP/SIGCONT simulate a hung host).</summary>
public static partial class Signals
{
    public const int Stop = 19;
    public const int Cont = 18;
    public const int Hangup = 1;
    public const int Interrupt = 2;
    public const int Terminate = 15;

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// True when <paramref name="pid"/> ignores <paramref name="signal"/> (its SigIgn mask in /proc): a process
    /// started from a shell's background job inherits SIGINT ignored, and .NET keeps it so.
    /// </summary>
    public static bool IsIgnored(int pid, int signal)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && ((Convert.ToUInt64(line[7..].Trim(), 16) >> (signal - 1)) & 1) == 1;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
