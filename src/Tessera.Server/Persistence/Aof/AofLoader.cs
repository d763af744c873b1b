using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Sessions;

namespace Tessera.Server.Persistence.Aof;

/// <summary>
/// Replays a multi-part AOF at start-up (Redis's loadAppendOnlyFiles): the base (an RDB snapshot, possibly
/// followed by commands, or commands alone), then each increment, through a client of its own that no
/// authentication, permission, memory limit or pause applies to. Keys do not expire while loading. A last
/// file that ends inside a command, or inside a MULTI without its EXEC, was torn by a crash: with
/// <c>aof-load-truncated yes</c> the torn tail is cut off (logged) and start-up goes on; anything else
/// malformed throws <see cref="AofFormatException"/>.
/// </summary>
internal sealed class AofLoader(TesseraServer server, string directory)
{
    private const int ReadSize = 1 << 16;

    private static readonly Request Discard = CreateDiscard();

    /// <summary>Bytes of the files already loaded, for the loading progress.</summary>
    private long _loadedBefore;

    public void Load(AofManifest manifest)
    {
        var files = new List<AofFileInfo>();
        if (manifest.Base is { } baseFile)
        {
            files.Add(baseFile);
        }
        files.AddRange(manifest.Increments);
        var session = new ClientSession(server, -1, null, "", "");
        server.Keyspace.Loading = true;
        server.Loading.Begin(files.Sum(f => File.Exists(Path.Combine(directory, f.Name)) ? new FileInfo(Path.Combine(directory, f.Name)).Length : 0));
        try
        {
            for (var i = 0; i < files.Count; i++)
            {
                LoadFile(session, files[i], last: i == files.Count - 1);
                _loadedBefore += new FileInfo(Path.Combine(directory, files[i].Name)).Length;
            }
        }
        finally
        {
            server.Keyspace.Loading = false;
            server.Loading.End();
        }
        server.Changes.Dirty = 0;
    }

    private void LoadFile(ClientSession session, AofFileInfo file, bool last)
    {
        var path = Path.Combine(directory, file.Name);
        if (!File.Exists(path))
        {
            throw new AofFormatException($"The AOF file {file.Name} doesn't exist");
        }
        long validUpTo;
        bool torn;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, ReadSize))
        {
            if (stream.Length == 0)
            {
                return;
            }
            if (RdbFile.StartsWithSnapshot(stream))
            {
                try
                {
                    server.Snapshots.ReadInto(stream, position => server.Loading.Advance(_loadedBefore + position));
                }
                catch (RdbFormatException e)
                {
                    throw new AofFormatException($"Bad file format reading the append only file {file.Name}: {e.Message}");
                }
            }
            var commands = 0;
            var delay = new DebugDelay();
            var result = AofStream.Read(stream, request =>
            {
                if ((++commands & 1023) == 0)
                {
                    server.Loading.Advance(_loadedBefore + stream.Position);
                }
                delay.Add(server.Config.KeyLoadDelay.Value);
                return session.Replay(request);
            });
            if (result.Error is not null)
            {
                throw new AofFormatException($"{result.Error} reading the append only file {file.Name} at offset {result.ValidUpTo}: make a backup of your AOF file, then use tessera check-aof --fix <filename.manifest>");
            }
            if (result.OpenTransaction)
            {
                // A MULTI whose EXEC never made it: its commands were only queued, so nothing of it was applied.
                session.Replay(Discard);
            }
            (validUpTo, torn) = (result.ValidUpTo, result.Torn);
        }
        if (!torn)
        {
            return;
        }
        if (!last)
        {
            throw new AofFormatException($"Unexpected end of file reading the append only file {file.Name}, which is not the last one. You can: 1) Make a backup of your AOF file, then use tessera check-aof --fix <filename.manifest>.");
        }
        if (!server.Config.AofLoadTruncated.Value)
        {
            throw new AofFormatException($"Unexpected end of file reading the append only file {file.Name}. You can: 1) Make a backup of your AOF file, then use tessera check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
        }
        server.Log.AofTruncated(file.Name, validUpTo);
        using var truncate = new FileStream(path, FileMode.Open, FileAccess.Write);
        truncate.SetLength(validUpTo);
        truncate.Flush(flushToDisk: true);
    }

    private static Request CreateDiscard()
    {
        var request = new Request();
        var bytes = "DISCARD"u8.ToArray();
        request.Add(0, bytes.Length);
        request.Bind(bytes, 0);
        return request;
    }
}
