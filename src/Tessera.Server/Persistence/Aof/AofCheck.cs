using Tessera.Server.Persistence.Rdb;

namespace Tessera.Server.Persistence.Aof;

/// <summary>
/// <c>tessera check-aof [--fix] FILE</c> (like redis-check-aof): FILE is a manifest, whose files are checked in
/// order, or a single AOF file. Each file's RDB part (a base) is read, then its commands, and the report gives
/// the offset up to which it is sound. With --fix, a damaged or truncated last file is cut back to that
/// offset after its original is copied to FILE.bak; damage in an earlier file cannot be fixed that way.
/// </summary>
public static class AofCheck
{
    /// <summary>Writes the report to <paramref name="output"/>; true when everything is sound (or was fixed).</summary>
    public static bool Run(string path, bool fix, TextWriter output)
    {
        if (!File.Exists(path))
        {
            output.WriteLine($"Cannot open file {path}");
            return false;
        }
        if (!path.EndsWith(".manifest", StringComparison.Ordinal))
        {
            output.WriteLine($"Start checking Old-Style AOF");
            return CheckFile(path, fix, last: true, output);
        }
        AofManifest manifest;
        try
        {
            manifest = AofManifest.Parse(File.ReadAllText(path));
        }
        catch (AofFormatException e)
        {
            output.WriteLine(e.Message);
            return false;
        }
        output.WriteLine("Start checking Multi Part AOF");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var files = (manifest.Base is null ? [] : new[] { manifest.Base }).Concat(manifest.Increments).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            var kind = files[i].Type == AofFileType.Base ? "BASE" : "INCR";
            output.WriteLine($"Start to check {kind} AOF ({files[i].Name}).");
            if (!CheckFile(Path.Combine(directory, files[i].Name), fix, last: i == files.Count - 1, output))
            {
                return false;
            }
        }
        output.WriteLine($"All AOF files and manifest are valid");
        return true;
    }

    private static bool CheckFile(string path, bool fix, bool last, TextWriter output)
    {
        AofReadResult result;
        long size;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            size = stream.Length;
            if (!TryReadRdbPart(stream, path, output))
            {
                return false;
            }
            result = AofStream.Read(stream, _ => null);
        }
        var name = Path.GetFileName(path);
        output.WriteLine($"AOF analyzed: filename={name}, size={size}, ok_up_to={result.ValidUpTo}, diff={size - result.ValidUpTo}");
        if (result.Error is null && !result.Torn)
        {
            output.WriteLine($"AOF {name} is valid");
            return true;
        }
        output.WriteLine(result.Error is null
            ? $"AOF {name} ends with an incomplete command{(result.OpenTransaction ? " or a MULTI without EXEC" : "")} at offset {result.ValidUpTo}"
            : $"AOF {name} format error at offset {result.End}: {result.Error}");
        if (!fix)
        {
            output.WriteLine($"AOF {name} is not valid. Use the --fix option to try fixing it.");
            return false;
        }
        if (!last)
        {
            output.WriteLine($"AOF {name} is not the last file: only the last one can be truncated, so it cannot be fixed.");
            return false;
        }
        File.Copy(path, path + ".bak", overwrite: true);
        using (var truncate = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            truncate.SetLength(result.ValidUpTo);
            truncate.Flush(flushToDisk: true);
        }
        output.WriteLine($"Successfully truncated AOF {name} from {size} to {result.ValidUpTo} bytes (the original is in {name}.bak)");
        return true;
    }

    /// <summary>A file starting with an RDB snapshot (a base, or an old-style preamble) has it checked first.</summary>
    private static bool TryReadRdbPart(FileStream stream, string path, TextWriter output)
    {
        if (!RdbFile.StartsWithSnapshot(stream))
        {
            return true;
        }
        output.WriteLine($"The AOF {Path.GetFileName(path)} has an RDB preamble, checking RDB preamble.");
        try
        {
            RdbFile.ReadScratch(stream, _ => { });
            output.WriteLine($"RDB preamble is OK, proceeding with AOF tail...");
            return true;
        }
        catch (RdbFormatException e)
        {
            output.WriteLine($"RDB preamble of AOF file is not sane, aborting: [offset {stream.Position}] {e.Message}");
            return false;
        }
    }
}
