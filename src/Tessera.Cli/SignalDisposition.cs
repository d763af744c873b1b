using System.Runtime.InteropServices;

namespace Tessera.Cli;

/// <summary>
/// A signal a verb must hear even when its parent told it to ignore it: a process started by nohup inherits SIGHUP
/// ignored, and .NET then never calls a handler registered for it, so the proxy's SIGHUP reload (as nutcracker's
/// and nginx's, which reload under nohup too) would silently do nothing. Restoring the default disposition before
/// registering lets the registration take it. (Not for SIGINT: .NET decides about an ignored SIGINT at start-up.)
/// </summary>
internal static partial class SignalDisposition
{
    private const int Hangup = 1;
    private const nint Default = 0;

    /// <summary>Undoes an inherited "ignore" for SIGHUP; call before registering a SIGHUP handler.</summary>
    public static void HeedHangup() => SetHandler(Hangup, Default);

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SetHandler(int signal, nint handler);
}
