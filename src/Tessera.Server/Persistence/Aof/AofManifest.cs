using System.Globalization;
using System.Text;
using Tessera.Core.IO;

namespace Tessera.Server.Persistence.Aof;

/// <summary>A manifest that cannot be read: start-up stops with this message.</summary>
internal sealed class AofFormatException(string message) : Exception(message);

/// <summary>The role of a file in a multi-part AOF: the base, an increment, or history awaiting deletion.</summary>
internal enum AofFileType
{
    Base = 'b',
    History = 'h',
    Increment = 'i',
}

/// <summary>One file named by the manifest.</summary>
internal sealed record AofFileInfo(string Name, long Sequence, AofFileType Type);

/// <summary>
/// Redis 7's AOF manifest (<c>appendonly.aof.manifest</c> in <c>appenddirname</c>): one line per file,
/// <c>file NAME seq N type b|h|i</c>, the base first, then history, then the increments in order. It is
/// replaced atomically (temporary file, fsync, rename), so it always names a complete, loadable set of files.
/// </summary>
internal sealed class AofManifest
{
    public AofFileInfo? Base { get; set; }

    public List<AofFileInfo> Increments { get; } = [];

    public List<AofFileInfo> History { get; } = [];

    /// <summary>Sequence number of the newest base (0 before the first).</summary>
    public long BaseSequence => Base?.Sequence ?? History.Where(f => f.Type == AofFileType.Base).Select(f => f.Sequence).DefaultIfEmpty(0).Max();

    /// <summary>Sequence number of the newest increment (0 before the first).</summary>
    public long IncrementSequence { get; set; }

    /// <summary>Reads a manifest; throws <see cref="AofFormatException"/> naming the bad line.</summary>
    public static AofManifest Parse(string text)
    {
        var manifest = new AofManifest();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string? name = null;
            long sequence = -1;
            char type = '\0';
            for (var i = 0; i + 1 < parts.Length; i += 2)
            {
                switch (parts[i])
                {
                    case "file":
                        name = parts[i + 1];
                        break;
                    case "seq":
                        long.TryParse(parts[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
                        break;
                    case "type":
                        type = parts[i + 1].Length == 1 ? parts[i + 1][0] : '\0';
                        break;
                }
            }
            if (parts.Length % 2 != 0 || name is null || sequence <= 0 || type is not ('b' or 'h' or 'i'))
            {
                throw new AofFormatException($"Invalid AOF manifest file format (line {number}: '{line}')");
            }
            var file = new AofFileInfo(name, sequence, (AofFileType)type);
            switch (file.Type)
            {
                case AofFileType.Base when manifest.Base is not null:
                    throw new AofFormatException("Found duplicate base file information in the AOF manifest");
                case AofFileType.Base:
                    manifest.Base = file;
                    break;
                case AofFileType.History:
                    manifest.History.Add(file);
                    break;
                default:
                    if (sequence <= manifest.IncrementSequence)
                    {
                        throw new AofFormatException("Found a non-monotonic sequence number in the AOF manifest");
                    }
                    manifest.Increments.Add(file);
                    manifest.IncrementSequence = sequence;
                    break;
            }
        }
        return manifest;
    }

    /// <summary>The manifest's text.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        foreach (var file in Base is null ? History.Concat(Increments) : History.Prepend(Base).Concat(Increments))
        {
            text.Append(CultureInfo.InvariantCulture, $"file {file.Name} seq {file.Sequence} type {(char)file.Type}\n");
        }
        return text.ToString();
    }

    /// <summary>Replaces the manifest at <paramref name="path"/> atomically.</summary>
    public void Save(string path)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, "temp-" + Path.GetFileName(path));
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(Format()));
            file.Flush(flushToDisk: true);
        }
        DurableRename.Replace(temporary, path);
    }
}
