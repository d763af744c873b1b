using Tessera.Core.IO;
using Tessera.Server.Logging;
using Tessera.Server.Persistence.Rdb;

namespace Tessera.Server.Persistence;

/// <summary>
/// The node's RDB snapshot (<c>dir</c>/<c>dbfilename</c>): SAVE writes it in the foreground, BGSAVE and the
/// <c>save</c> points through a <see cref="BackgroundSave"/>; either writes a temporary file, flushed to disk
/// and renamed over the previous one, so a crash mid-save never damages the last good snapshot. Start-up and
/// DEBUG RELOAD load it. Used under the execution lock.
/// </summary>
internal sealed class Snapshots(TesseraServer server)
{
    /// <summary>After a failed background save, save points wait this long before trying again (as Redis).</summary>
    private const long RetryDelaySeconds = 5;

    private long _lastAttemptUnix;

    /// <summary>Unix seconds of the last successful save, or of start-up (LASTSAVE).</summary>
    public long LastSaveUnix { get; private set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Successful saves since start-up (INFO rdb_saves).</summary>
    public long Saves { get; private set; }

    /// <summary>What the last load found (INFO rdb_last_load_keys_loaded / _expired).</summary>
    public RdbLoadResult LastLoad { get; private set; }

    /// <summary>The BGSAVE being written, or null.</summary>
    public BackgroundSave? Background { get; private set; }

    /// <summary>True when a BGSAVE waits for another background job (BGSAVE SCHEDULE).</summary>
    public bool Scheduled { get; set; }

    /// <summary>How the last BGSAVE went (INFO rdb_last_bgsave_status, _time_sec, rdb_last_cow_size).</summary>
    public BackgroundSaveStatus LastBackground { get; } = new();

    public string FilePath => Path.Combine(server.Config.Dir, server.Config.DbFilename.Value);

    /// <summary>SAVE: writes the snapshot; false (after logging why) when it could not be written.</summary>
    public bool Save()
    {
        var temporary = Path.Combine(server.Config.Dir, $"temp-{Environment.ProcessId}.rdb");
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                RdbFile.Write(file, server.Keyspace, Libraries(), server.Config, server.UsedMemory(), server.Replication.SavePosition());
                file.Flush(flushToDisk: true);
            }
            DurableRename.Replace(temporary, FilePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            server.Log.SaveFailed(e.Message);
            File.Delete(temporary);
            return false;
        }
        // A background save still running would replace this newer file with its older view.
        Background?.Cancel();
        server.Changes.Dirty = 0;
        LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Saves++;
        server.Log.DbSaved();
        return true;
    }

    /// <summary>
    /// BGSAVE: starts writing a point-in-time snapshot in the background. Returns false when another background
    /// job (a save or an AOF rewrite) is running.
    /// </summary>
    public bool StartBackground()
    {
        if (server.Keyspace.Snapshot is not null)
        {
            return false;
        }
        Scheduled = false;
        _lastAttemptUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var format = new RdbSnapshotFormat(server.Config, Libraries(), server.UsedMemory(), aofBase: false, server.Replication.SavePosition());
        Background = BackgroundSave.Start(server.SaveEnvironment, format, FilePath, BackgroundEnded);
        server.Log.BackgroundSaveStarted();
        return true;
    }

    /// <summary>
    /// From the cron: starts a scheduled BGSAVE once no other job runs, or a save point's BGSAVE when enough
    /// changes happened in its time (not sooner than five seconds after a failure).
    /// </summary>
    public void Cron()
    {
        if (server.Keyspace.Snapshot is not null)
        {
            return;
        }
        if (Scheduled)
        {
            StartBackground();
            return;
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (seconds, changes) in server.Config.SavePoints)
        {
            if (server.Changes.Dirty >= changes && now - LastSaveUnix > seconds
                && (LastBackground.LastSucceeded || now - _lastAttemptUnix > RetryDelaySeconds))
            {
                server.Log.SavePointReached(changes, seconds);
                StartBackground();
                return;
            }
        }
    }

    /// <summary>
    /// Loads the snapshot into the keyspace if the file exists; false when there is none. A damaged file, or a key
    /// or library the node holds already unless <paramref name="merge"/>, throws <see cref="RdbFormatException"/>.
    /// </summary>
    public bool Load(bool merge = false)
    {
        if (!File.Exists(FilePath))
        {
            return false;
        }
        server.Keyspace.UpdateClock();
        using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var loading = server.Loading;
        loading.Begin(file.Length);
        try
        {
            LastLoad = ReadInto(file, loading.Advance, merge);
        }
        finally
        {
            loading.End();
        }
        server.Log.DbLoaded(LastLoad.RedisVersion ?? "unknown", LastLoad.KeysLoaded, LastLoad.KeysExpired, loading.ElapsedSeconds);
        return true;
    }

    /// <summary>
    /// Loads a snapshot from <paramref name="stream"/> into the node's keyspace, its function libraries
    /// included (start-up, an AOF base, a replica's full sync).
    /// </summary>
    public RdbLoadResult ReadInto(Stream stream, Action<long>? progress = null, bool merge = false)
        => RdbFile.Read(stream, server.Keyspace, server.Config, code =>
        {
            if (server.Scripts.RestoreLibraries([code], merge ? "replace" : "append") is { } error)
            {
                throw new RdbFormatException(error);
            }
        }, progress, new RdbLoadOptions(merge, server.Debug.SkipChecksumValidation));

    /// <summary>The code of every function library, as the snapshot stores them.</summary>
    public IReadOnlyList<byte[]> Libraries() => server.ScriptsIfStarted?.Libraries.Select(l => l.Code).ToList() ?? [];

    private void BackgroundEnded(BackgroundSave save)
    {
        Background = null;
        LastBackground.Ended(save);
        if (!save.Succeeded)
        {
            server.Log.BackgroundSaveFailed(save.Error ?? "unknown error");
            return;
        }
        server.Changes.Dirty -= Math.Min(server.Changes.Dirty, save.DirtyAtStart);
        LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Saves++;
        server.Log.BackgroundSaveSucceeded();
    }
}
