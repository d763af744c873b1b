namespace Tessera.Server.Diagnostics;

/// <summary>Facts about this process's memory that only the kernel knows.</summary>
internal static class ProcessMemory
{
    /// <summary>
    /// Kilobytes of anonymous memory in transparent huge pages (the AnonHugePages of /proc/self/smaps_rollup), which
    /// LATENCY DOCTOR warns about as Redis does; 0 where the kernel does not say.
    /// </summary>
    public static long AnonymousHugePagesKb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/smaps_rollup"))
            {
                if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                {
                    return long.TryParse(line.AsSpan(14).Trim().TrimEnd("kB").Trim(), out var kb) ? kb : 0;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }
}
