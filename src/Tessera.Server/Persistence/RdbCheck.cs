using Tessera.Server.Persistence.Rdb;

namespace Tessera.Server.Persistence;

/// <summary>
/// <c>tessera check-rdb FILE</c> (like redis-check-rdb): loads a snapshot into a scratch keyspace and reports
/// whether it is sound, or the offset where it stops making sense and why.
/// </summary>
public static class RdbCheck
{
    /// <summary>Writes the report to <paramref name="output"/>; true when the file is sound.</summary>
    public static bool Run(string path, TextWriter output)
    {
        output.WriteLine($"[offset 0] Checking RDB file {path}");
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"Cannot open the RDB file: {e.Message}");
            return false;
        }
        using (file)
        {
            var libraries = 0;
            try
            {
                var (result, keyspace) = RdbFile.ReadScratch(file, _ => libraries++);
                output.WriteLine($"[offset {file.Position}] \\o/ RDB looks OK! \\o/");
                output.WriteLine($"[info] {result.KeysLoaded + result.KeysExpired} keys read");
                output.WriteLine($"[info] {keyspace.Databases.Sum(d => d.VolatileCount)} expires");
                output.WriteLine($"[info] {result.KeysExpired} already expired");
                output.WriteLine($"[info] {libraries} function libraries");
                return true;
            }
            catch (RdbFormatException e)
            {
                output.WriteLine("--- RDB ERROR DETECTED ---");
                output.WriteLine($"[offset {file.Position}] {e.Message}");
                return false;
            }
        }
    }
}
