using System.Runtime.InteropServices;

namespace Tessera.Core.IO;

/// <summary>
/// Replaces a file by a fully written (and flushed) temporary one so that a crash leaves either the old file or
/// the new one: rename, then flush the directory, without which the rename itself may not survive a power
/// loss (Redis's fsyncFileDir).
/// </summary>
public static partial class DurableRename
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000;

    /// <summary>Moves <paramref name="source"/> over <paramref name="target"/> and makes the rename durable.</summary>
    public static void Replace(string source, string target)
    {
        File.Move(source, target, overwrite: true);
        FlushDirectoryOf(target);
    }

    /// <summary>Flushes the directory holding <paramref name="path"/> (a file created or renamed there).</summary>
    public static void FlushDirectoryOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = Open(Path.GetDirectoryName(Path.GetFullPath(path))!, ReadOnly | Directory);
        if (fd < 0)
        {
            return;
        }
        _ = Fsync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
