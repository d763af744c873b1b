using System.Diagnostics;
using Tessera.Server.Logging;
using Tessera.Server.Persistence.Rdb;

namespace Tessera.Server.Persistence;

/// <summary>
/// The node's RDB snapshot (<c>dir</c>/<c>dbfilename</c>): SAVE writes it to a temporary file, flushed to disk and
/// renamed over the previous one, so a crash mid-save never damages the last good snapshot; start-up and DEBUG
/// RELOAD load it. Used under the execution lock.
/// </summary>
internal sealed class Snapshots(TesseraServer server)
{
    /// <summary>Unix seconds of the last successful save, or of start-up (LASTSAVE).</summary>
    public long LastSaveUnix { get; private set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Successful saves since start-up (INFO rdb_saves).</summary>
    public long Saves { get; private set; }

    /// <summary>What the last load found (INFO rdb_last_load_keys_loaded / _expired).</summary>
    public RdbLoadResult LastLoad { get; private set; }

    public string FilePath => Path.Combine(server.Config.Dir, server.Config.DbFilename.Value);

    /// <summary>SAVE: writes the snapshot; false (after logging why) when it could not be written.</summary>
    public bool Save()
    {
        var temporary = Path.Combine(server.Config.Dir, $"temp-{Environment.ProcessId}.rdb");
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                RdbFile.Write(file, server.Keyspace, server.ScriptsIfStarted?.Libraries.Select(l => l.Code) ?? [], server.Config, server.UsedMemory());
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, FilePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            server.Log.SaveFailed(e.Message);
            File.Delete(temporary);
            return false;
        }
        server.Dirty = 0;
        LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Saves++;
        server.Log.DbSaved();
        return true;
    }

    /// <summary>
    /// Loads the snapshot into the (empty) keyspace if the file exists; false when there is none. A damaged file
    /// throws <see cref="RdbFormatException"/>.
    /// </summary>
    public bool Load()
    {
        if (!File.Exists(FilePath))
        {
            return false;
        }
        var clock = Stopwatch.StartNew();
        server.Keyspace.UpdateClock();
        using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        LastLoad = RdbFile.Read(file, server.Keyspace, server.Config, code => server.Scripts.RestoreLibraries([code], "append"));
        server.Log.DbLoaded(LastLoad.RedisVersion ?? "unknown", LastLoad.KeysLoaded, LastLoad.KeysExpired, clock.Elapsed.TotalSeconds);
        return true;
    }
}
