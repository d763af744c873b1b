using System.Diagnostics;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tessera.Core.IO;
using Tessera.Core.Threading;
using Tessera.Resp;
using Tessera.Server.Logging;

namespace Tessera.Server.Persistence.Aof;

/// <summary>
/// Redis 7's multi-part append-only file: a base (a snapshot, RDB or AOF form), increment files holding every
/// propagated write since, and the manifest naming them, all in <c>dir</c>/<c>appenddirname</c>. Writes gathered
/// by <see cref="Propagation"/> are written before the replies of the commands that made them are sent
/// (<see cref="WriteBuffered"/>), and flushed to disk per <c>appendfsync</c>: before replying (always), once a
/// second by a thread of its own (everysec), or when the system decides (no). A rewrite starts a new increment
/// and writes a new base from a point-in-time view in the background; once it is in place the manifest drops
/// the old files. Used under the execution lock.
/// </summary>
internal sealed class AppendOnlyFile : IPropagationSink, IDisposable
{
    private readonly TesseraServer _server;
    private readonly OutputBuffer _buffer = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _syncLock = new();
    private AofManifest _manifest = new();
    private SafeFileHandle? _increment;
    private long _incrementLength;
    private long _written;
    private long _synced;
    private long _lastTimestamp;
    private Thread? _fsyncThread;

    /// <summary>True while the everysec thread flushes: a write meanwhile waits on the disk with it.</summary>
    private volatile bool _backgroundFsync;
    private long _rewriteIncrementSequence;

    public AppendOnlyFile(TesseraServer server) => _server = server;

    /// <summary>True while writes are appended (<c>appendonly yes</c>).</summary>
    public bool Enabled { get; private set; }

    /// <summary>True while the AOF is replayed at start-up: nothing is propagated meanwhile.</summary>
    public bool Loading { get; set; }

    /// <summary>The rewrite in progress, or null.</summary>
    public BackgroundSave? Rewrite { get; private set; }

    /// <summary>A BGREWRITEAOF waiting for a background save to end.</summary>
    public bool RewriteScheduled { get; set; }

    /// <summary>How the last rewrite went (INFO aof_last_bgrewrite_status, _rewrite_time_sec, aof_last_cow_size).</summary>
    public BackgroundSaveStatus LastRewrite { get; } = new();

    public long Rewrites { get; private set; }

    /// <summary>False after a write to the increment failed (INFO aof_last_write_status).</summary>
    public bool LastWriteSucceeded { get; private set; } = true;

    /// <summary>Bytes of the base and the increments (INFO aof_current_size).</summary>
    public long CurrentSize => BaseSize + _incrementLength + _olderIncrements;

    /// <summary>Size of the AOF after the last rewrite, against which growth is measured (INFO aof_base_size).</summary>
    public long BaseSize { get; private set; }

    /// <summary>Bytes waiting to be written (INFO aof_buffer_length).</summary>
    public long BufferLength => _buffer.Length;

    private long _olderIncrements;

    private string DirectoryPath => Path.Combine(_server.Config.Dir, _server.Config.AppendDirname.Value);

    private string FileName => _server.Config.AppendFilename.Value;

    private string ManifestPath => Path.Combine(DirectoryPath, FileName + ".manifest");

    /// <summary>
    /// Start-up with <c>appendonly yes</c>: replays the files the manifest names (the RDB snapshot is not loaded,
    /// as in Redis), then opens a new increment; with no AOF yet, writes an empty base first. Throws
    /// <see cref="AofFormatException"/> when the files cannot be loaded.
    /// </summary>
    public void Start()
    {
        Directory.CreateDirectory(DirectoryPath);
        UpgradeSingleFile();
        if (File.Exists(ManifestPath))
        {
            _manifest = AofManifest.Parse(File.ReadAllText(ManifestPath));
            Loading = true;
            try
            {
                new AofLoader(_server, DirectoryPath).Load(_manifest);
            }
            finally
            {
                Loading = false;
            }
            _server.Log.AofLoaded(_server.Loading.ElapsedSeconds);
        }
        if (_manifest.Base is null)
        {
            WriteEmptyBase();
        }
        _olderIncrements = _manifest.Increments.Sum(f => FileLength(f.Name));
        BaseSize = FileLength(_manifest.Base!.Name) + _olderIncrements;
        OpenIncrement();
        _manifest.Save(ManifestPath);
        Enabled = true;
        StartFsyncThread();
    }

    /// <summary>
    /// A Redis 6 (or earlier) single-file AOF in <c>dir</c> and no manifest yet: as Redis 7 does, the file moves
    /// into <c>appenddirname</c> as the base of a new manifest.
    /// </summary>
    private void UpgradeSingleFile()
    {
        var single = Path.Combine(_server.Config.Dir, FileName);
        if (File.Exists(ManifestPath) || !File.Exists(single))
        {
            return;
        }
        File.Move(single, Path.Combine(DirectoryPath, FileName));
        var manifest = new AofManifest { Base = new AofFileInfo(FileName, 1, AofFileType.Base) };
        manifest.Save(ManifestPath);
        _server.Log.AofUpgraded(FileName);
    }

    /// <summary>
    /// DEBUG LOADAOF, once the caller emptied the dataset: writes out what is pending and replays the files the
    /// manifest names. Null, or why they could not be loaded (where Redis exits).
    /// </summary>
    public string? Reload()
    {
        if (Enabled)
        {
            WriteBuffered();
            Sync();
        }
        if (!File.Exists(ManifestPath))
        {
            return "ERR There is no AOF to load";
        }
        Loading = true;
        try
        {
            new AofLoader(_server, DirectoryPath).Load(AofManifest.Parse(File.ReadAllText(ManifestPath)));
            return null;
        }
        catch (AofFormatException e)
        {
            return "ERR " + e.Message;
        }
        catch (Rdb.RdbFormatException e)
        {
            return "ERR " + e.Message;
        }
        finally
        {
            Loading = false;
        }
    }

    /// <summary>CONFIG SET appendonly yes: starts appending and rewrites the dataset into a new base.</summary>
    public void Enable()
    {
        if (Enabled)
        {
            return;
        }
        Directory.CreateDirectory(DirectoryPath);
        if (File.Exists(ManifestPath))
        {
            _manifest = AofManifest.Parse(File.ReadAllText(ManifestPath));
        }
        Enabled = true;
        StartFsyncThread();
        if (!StartRewrite())
        {
            RewriteScheduled = true;
        }
    }

    /// <summary>CONFIG SET appendonly no: flushes what is pending and stops appending.</summary>
    public void Disable()
    {
        if (!Enabled)
        {
            return;
        }
        WriteBuffered();
        Sync();
        Rewrite?.Cancel();
        Enabled = false;
        _increment?.Dispose();
        _increment = null;
    }

    /// <summary>Enabled, and not replaying its own files.</summary>
    public bool Accepting => Enabled && !Loading;

    /// <summary>Appends a copy of what one command propagated.</summary>
    public void Feed(OutputBuffer commands)
    {
        if (!Enabled || Loading)
        {
            return;
        }
        if (_server.Config.AofTimestampEnabled.Value)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (now != _lastTimestamp)
            {
                _lastTimestamp = now;
                _buffer.WriteRaw(Encoding.ASCII.GetBytes($"#TS:{now}\r\n"));
            }
        }
        // Copied, not moved: both buffers keep their chunks, so a propagated command rents nothing.
        Propagation.Copy(commands, _buffer);
    }

    /// <summary>
    /// Writes what was fed to the increment file, before the replies of the commands that fed it leave, so an
    /// acknowledged write is in the file. With <c>appendfsync always</c> returns the offset the caller must
    /// pass to <see cref="WaitDurable"/> before replying; otherwise -1.
    /// </summary>
    public long WriteBuffered()
    {
        if (_buffer.IsEmpty || _increment is null)
        {
            return -1;
        }
        if (_server.Debug.AofFlushSleepMicroseconds > 0)
        {
            Thread.Sleep(TimeSpan.FromMicroseconds(_server.Debug.AofFlushSleepMicroseconds));
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (!_buffer.IsEmpty)
            {
                var chunk = _buffer.PeekFirst();
                RandomAccess.Write(_increment, chunk, _incrementLength);
                _incrementLength += chunk.Length;
                Interlocked.Add(ref _written, chunk.Length);
                if (chunk.Length == _buffer.Length)
                {
                    _buffer.Reset();
                    break;
                }
                _buffer.Consume(chunk.Length);
            }
            LastWriteSucceeded = true;
            RecordWriteLatency((long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (IOException e)
        {
            // Kept in the buffer and tried again with the next write, as Redis does.
            LastWriteSucceeded = false;
            _server.Log.AofWriteFailed(e.Message);
            return -1;
        }
        return _server.Config.AppendFsync.Value == "always" ? Interlocked.Read(ref _written) : -1;
    }

    /// <summary>
    /// appendfsync always, without the execution lock: returns once everything up to <paramref name="offset"/>
    /// is on disk. Clients finishing batches at the same time share one fsync (group commit): whoever comes
    /// second usually finds its bytes already covered by the fsync it waited for.
    /// </summary>
    public void WaitDurable(long offset)
    {
        if (offset >= 0 && offset > Interlocked.Read(ref _synced))
        {
            var started = Stopwatch.GetTimestamp();
            SyncTo(offset);
            _server.Latency.AddIfNeeded("aof-fsync-always", (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>Redis's aof-write latency events: the write, and the same by what else was using the disk.</summary>
    private void RecordWriteLatency(long milliseconds)
    {
        var latency = _server.Latency;
        if (latency.Threshold == 0)
        {
            return;
        }
        latency.AddIfNeeded(_backgroundFsync ? "aof-write-pending-fsync"
            : _server.Keyspace.Snapshot is not null ? "aof-write-active-child"
            : "aof-write-alone", milliseconds);
        latency.AddIfNeeded("aof-write", milliseconds);
    }

    /// <summary>
    /// BGREWRITEAOF: false when another background job runs (the caller schedules it), or when the new increment
    /// cannot be opened (its directory gone, a full disk): that rewrite fails at once, as Redis's does.
    /// </summary>
    public bool StartRewrite()
    {
        if (_server.Keyspace.Snapshot is not null)
        {
            return false;
        }
        RewriteScheduled = false;
        try
        {
            // BGREWRITEAOF with the AOF off still writes a base and a manifest (DEBUG LOADAOF reads them).
            Directory.CreateDirectory(DirectoryPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _server.Log.AofRewriteFailed(e.Message);
            LastRewrite.Failed();
            return false;
        }
        if (Enabled)
        {
            // Writes from now on go to a new increment; the view taken in the same instant becomes the new base.
            WriteBuffered();
            Sync();
            try
            {
                OpenIncrement();
                _manifest.Save(ManifestPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _server.Log.AofRewriteFailed(e.Message);
                LastRewrite.Failed();
                return false;
            }
        }
        _rewriteIncrementSequence = _manifest.IncrementSequence;
        var sequence = _manifest.BaseSequence + 1;
        var preamble = _server.Config.AofUseRdbPreamble.Value;
        var name = $"{FileName}.{sequence}.base.{(preamble ? "rdb" : "aof")}";
        ISnapshotFormat format = preamble
            ? new RdbSnapshotFormat(_server.Config, _server.Snapshots.Libraries(), _server.UsedMemory(), aofBase: true)
            : new AofCommandFormat(_server.Snapshots.Libraries());
        Rewrite = BackgroundSave.Start(_server.SaveEnvironment, format, Path.Combine(DirectoryPath, name), save => RewriteEnded(save, name, sequence));
        _server.Log.AofRewriteStarted();
        return true;
    }

    /// <summary>From the cron: a scheduled rewrite, or an automatic one once the AOF grew enough past its base.</summary>
    public void Cron()
    {
        if (_server.Keyspace.Snapshot is not null)
        {
            return;
        }
        if (RewriteScheduled)
        {
            StartRewrite();
            return;
        }
        var percentage = _server.Config.AutoAofRewritePercentage.Value;
        var size = CurrentSize;
        if (Enabled && percentage > 0 && size > _server.Config.AutoAofRewriteMinSize.Value)
        {
            var growth = BaseSize == 0 ? 100 : (size - BaseSize) * 100 / BaseSize;
            if (growth >= percentage)
            {
                _server.Log.AofAutomaticRewrite(growth);
                StartRewrite();
            }
        }
    }

    /// <summary>Shutdown: writes and flushes everything pending.</summary>
    public void Flush()
    {
        if (Enabled)
        {
            WriteBuffered();
            Sync();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _fsyncThread?.Join();
        _increment?.Dispose();
        _stop.Dispose();
    }

    private void RewriteEnded(BackgroundSave save, string name, long sequence)
    {
        Rewrite = null;
        LastRewrite.Ended(save);
        if (!save.Succeeded)
        {
            _server.Log.AofRewriteFailed(save.Error ?? "unknown error");
            return;
        }
        // The new base replaces the old base and every increment opened before the rewrite started.
        var obsolete = _manifest.Increments.Where(f => f.Sequence < _rewriteIncrementSequence || !Enabled).ToList();
        if (_manifest.Base is { } oldBase)
        {
            obsolete.Add(oldBase);
        }
        _manifest.Base = new AofFileInfo(name, sequence, AofFileType.Base);
        _manifest.Increments.RemoveAll(obsolete.Contains);
        _manifest.History.AddRange(obsolete.Select(f => f with { Type = AofFileType.History }));
        try
        {
            _manifest.Save(ManifestPath);
            foreach (var file in _manifest.History)
            {
                File.Delete(Path.Combine(DirectoryPath, file.Name));
            }
            _manifest.History.Clear();
            _manifest.Save(ManifestPath);
        }
        catch (IOException e)
        {
            _server.Log.AofRewriteFailed(e.Message);
            LastRewrite.LastSucceeded = false;
            return;
        }
        Rewrites++;
        _olderIncrements = _manifest.Increments.Where(f => f.Sequence != _manifest.IncrementSequence).Sum(f => FileLength(f.Name));
        BaseSize = FileLength(name) + _olderIncrements + _incrementLength;
        _server.Log.AofRewriteSucceeded();
    }

    /// <summary>
    /// Starts a new increment file. The new one is opened before the current one is closed, so a failure (the
    /// directory gone, a full disk) leaves writes going where they went.
    /// </summary>
    private void OpenIncrement()
    {
        var sequence = _manifest.IncrementSequence + 1;
        var name = $"{FileName}.{sequence}.incr.aof";
        var path = Path.Combine(DirectoryPath, name);
        var opened = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        // The new file's directory entry is flushed before the manifest naming it is written.
        DurableRename.FlushDirectoryOf(path);
        if (_increment is not null)
        {
            _olderIncrements += _incrementLength;
            _increment.Dispose();
        }
        _increment = opened;
        _incrementLength = 0;
        _manifest.Increments.Add(new AofFileInfo(name, sequence, AofFileType.Increment));
        _manifest.IncrementSequence = sequence;
        _server.Propagation.ForgetSelectedDb();
    }

    private void WriteEmptyBase()
    {
        var name = $"{FileName}.1.base.{(_server.Config.AofUseRdbPreamble.Value ? "rdb" : "aof")}";
        using (var file = new FileStream(Path.Combine(DirectoryPath, name), FileMode.Create, FileAccess.Write))
        {
            if (_server.Config.AofUseRdbPreamble.Value)
            {
                Rdb.RdbFile.Write(file, _server.Keyspace, _server.Snapshots.Libraries(), _server.Config, _server.UsedMemory());
            }
            file.Flush(flushToDisk: true);
        }
        _manifest.Base = new AofFileInfo(name, 1, AofFileType.Base);
        _server.Log.AofBaseCreated(name);
    }

    private long FileLength(string name)
    {
        var info = new FileInfo(Path.Combine(DirectoryPath, name));
        return info.Exists ? info.Length : 0;
    }

    /// <summary>Flushes the increment to disk if anything was written since the last time.</summary>
    private void Sync() => SyncTo(Interlocked.Read(ref _written));

    /// <summary>Flushes the increment to disk unless everything up to <paramref name="target"/> already is.</summary>
    private void SyncTo(long target)
    {
        lock (_syncLock)
        {
            if (target <= Interlocked.Read(ref _synced))
            {
                return;
            }
            // The count before the handle: bytes counted were written to this handle or to one closed earlier,
            // and a handle is flushed before it is closed.
            var written = Interlocked.Read(ref _written);
            var handle = Volatile.Read(ref _increment);
            if (handle is null)
            {
                return;
            }
            try
            {
                RandomAccess.FlushToDisk(handle);
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile for a new increment, after a flush that covered these bytes.
            }
            Interlocked.Exchange(ref _synced, written);
        }
    }

    /// <summary>appendfsync everysec: once a second, the increment is flushed to disk off the execution lock.</summary>
    private void StartFsyncThread()
    {
        if (_fsyncThread is not null)
        {
            return;
        }
        _fsyncThread = GuardedThread.Create("tessera-aof-fsync", () =>
        {
            var token = _stop.Token;
            while (!token.WaitHandle.WaitOne(1000))
            {
                if (!Enabled || _server.Config.AppendFsync.Value != "everysec")
                {
                    continue;
                }
                try
                {
                    // Off the execution lock: clients never wait for the disk. A handle closed meanwhile (a new
                    // increment opened) was flushed when it was closed.
                    _backgroundFsync = true;
                    Sync();
                }
                catch (Exception e)
                {
                    _server.Log.AofWriteFailed(e.Message);
                }
                finally
                {
                    _backgroundFsync = false;
                }
            }
        }, e => _server.Log.BackgroundJobFailed(e, "AOF fsync"));
        _fsyncThread.Start();
    }
}
