using System.Diagnostics;
using Tessera.Core.Hashing;
using Tessera.Core.IO;
using Tessera.Core.Threading;
using Tessera.Server.Logging;
using Tessera.Server.Storage;

namespace Tessera.Server.Persistence;

/// <summary>
/// Writes a point-in-time view of the dataset to a file on a thread of its own while clients keep running
/// commands (what Redis does in a forked child). The file is written under a temporary name, flushed to disk and
/// renamed over <see cref="TargetPath"/>, so a crash or a failure mid-save leaves the previous file intact; or it
/// is written to a stream (a diskless replica synchronization). At most one runs at a time
/// (<see cref="Keyspace.Snapshot"/>).
/// </summary>
internal sealed class BackgroundSave
{
    /// <summary>
    /// Work done per turn of the execution lock: short enough that a client waiting for the lock meanwhile
    /// hardly notices (a 64 KB chunk takes about 1.5 ms, which showed in the p99 of concurrent commands).
    /// </summary>
    private static readonly TimeSpan TurnBudget = TimeSpan.FromMicroseconds(100);

    private readonly SaveEnvironment _node;
    private readonly ISnapshotFormat _format;
    private readonly Action<BackgroundSave> _completed;
    private readonly Thread _thread;
    private readonly Stream? _stream;
    private readonly long _createdAt = Stopwatch.GetTimestamp();
    private volatile bool _cancelled;

    private BackgroundSave(SaveEnvironment node, ISnapshotFormat format, string? targetPath, Stream? stream, Action<BackgroundSave> completed)
    {
        _node = node;
        _format = format;
        TargetPath = targetPath;
        _stream = stream;
        _completed = completed;
        Snapshot = new KeyspaceSnapshot(node.Keyspace, format.Slot);
        DirtyAtStart = node.Changes.Dirty;
        _thread = GuardedThread.Create("tessera-bgsave", Run, e => node.Log.BackgroundJobFailed(e, "background save"));
    }

    /// <summary>The file written, or null when the save writes to a stream.</summary>
    public string? TargetPath { get; }

    public KeyspaceSnapshot Snapshot { get; }

    /// <summary>The change counter when the view was taken: changes after it still need a save.</summary>
    public long DirtyAtStart { get; }

    public Stopwatch Elapsed { get; } = Stopwatch.StartNew();

    /// <summary>True once the file is in place; false after a failure or cancellation.</summary>
    public bool Succeeded { get; private set; }

    /// <summary>Why it failed, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Takes the view and starts writing it (under the execution lock). <paramref name="completed"/> runs under
    /// the lock when the save ends, successful or not, after the view is released.
    /// </summary>
    public static BackgroundSave Start(SaveEnvironment node, ISnapshotFormat format, string targetPath, Action<BackgroundSave> completed)
        => Start(new BackgroundSave(node, format, targetPath, null, completed));

    /// <summary>As the file form, but writes the snapshot to <paramref name="stream"/>, which it does not close.</summary>
    public static BackgroundSave Start(SaveEnvironment node, ISnapshotFormat format, Stream stream, Action<BackgroundSave> completed)
        => Start(new BackgroundSave(node, format, null, stream, completed));

    private static BackgroundSave Start(BackgroundSave save)
    {
        var node = save._node;
        node.Keyspace.Snapshot = save.Snapshot;
        save._thread.Start();
        // Taking the view is what Redis's fork is: the pause of the lock that INFO and the latency monitor report.
        var micros = (long)Stopwatch.GetElapsedTime(save._createdAt).TotalMicroseconds;
        node.Stats.CountFork(micros);
        node.Latency.AddIfNeeded("fork", micros / 1000);
        return save;
    }

    /// <summary>Stops the save: it will not replace <see cref="TargetPath"/>, and its temporary file is removed.</summary>
    public void Cancel() => _cancelled = true;

    /// <summary>Waits for the save to end; call without the execution lock.</summary>
    public void Wait() => _thread.Join();

    /// <summary>
    /// Writes, then (under the lock) renames into place and reports. Any failure, expected (a full disk) or not,
    /// fails this save only: the view is released and the temporary file removed whatever happened.
    /// </summary>
    private void Run()
    {
        BackgroundPriority.LowerCurrentThread();
        var temporary = TargetPath is null ? null : Path.Combine(Path.GetDirectoryName(TargetPath)!, $"temp-bg-{Environment.ProcessId}-{Environment.TickCount64}.tmp");
        try
        {
            if (temporary is null)
            {
                WriteTo(_stream!);
                _stream!.Flush();
            }
            else
            {
                using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                WriteTo(file);
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception e)
        {
            Error = e.Message;
            if (e is not (IOException or UnauthorizedAccessException or ObjectDisposedException))
            {
                _node.Log.BackgroundJobFailed(e, "background save");
            }
        }
        lock (_node.ExecutionLock)
        {
            // Renamed under the lock: a SAVE at shutdown that cancelled this one is never overwritten by it.
            try
            {
                if (Error is null && !_cancelled)
                {
                    if (temporary is not null)
                    {
                        DurableRename.Replace(temporary, TargetPath!);
                    }
                    Succeeded = true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Error = e.Message;
            }
            finally
            {
                if (!Succeeded && temporary is not null)
                {
                    TryDelete(temporary);
                }
                if (!Succeeded)
                {
                    Error ??= "cancelled";
                }
                _node.Keyspace.Snapshot = null;
                _completed(this);
            }
        }
    }

    /// <summary>Removes a temporary file that may already be gone (its directory removed meanwhile).</summary>
    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to clean up, or nothing we may clean up; the save has failed either way.
        }
    }

    private void WriteTo(Stream file)
    {
        _format.Begin(file);
        var chunk = new MemoryStream(1 << 16);
        var delay = new DebugDelay();
        for (var db = 0; db < Snapshot.Keys.Length && !_cancelled; db++)
        {
            if (!Snapshot.HasKeys(db))
            {
                continue;
            }
            _format.BeginDatabase(file, db, Snapshot.Keys[db], Snapshot.VolatileKeys[db]);
            for (var slot = 0; slot < HashSlot.Count && !_cancelled;)
            {
                chunk.SetLength(0);
                long keysBefore;
                lock (_node.ExecutionLock)
                {
                    keysBefore = Snapshot.KeysProcessed;
                    slot = Snapshot.Read(db, slot, chunk, TurnBudget);
                }
                // Clients waiting for the lock go first: the releasing thread would otherwise often take it again.
                Thread.Yield();
                _format.Write(file, chunk.GetBuffer().AsSpan(0, (int)chunk.Length));
                // rdb-key-save-delay, off the lock: Redis's child sleeps per key written.
                delay.Add(_node.Config.RdbKeySaveDelay.Value, Snapshot.KeysProcessed - keysBefore);
            }
        }
        _format.End(file);
    }
}

/// <summary>What INFO reports about the last background save of one kind (BGSAVE, or AOF rewrite).</summary>
internal sealed class BackgroundSaveStatus
{
    /// <summary>False when the last one failed (INFO's *_status: err).</summary>
    public bool LastSucceeded { get; set; } = true;

    /// <summary>Seconds the last one took, -1 before the first.</summary>
    public long LastSeconds { get; private set; } = -1;

    /// <summary>Bytes the last one serialized early for writes that came first (INFO's *_last_cow_size).</summary>
    public long LastCopiedBytes { get; private set; }

    /// <summary>Records a job that failed before it could start.</summary>
    public void Failed() => LastSucceeded = false;

    /// <summary>Records a save that just ended.</summary>
    public void Ended(BackgroundSave save)
    {
        LastSucceeded = save.Succeeded;
        LastSeconds = (long)save.Elapsed.Elapsed.TotalSeconds;
        LastCopiedBytes = save.Snapshot.CopiedBytes;
    }
}

/// <summary>What a background save needs of the node: the data, its change counter, the lock, the save delay, reporting.</summary>
internal sealed record SaveEnvironment(
    Keyspace Keyspace,
    ChangeCounter Changes,
    Lock ExecutionLock,
    Config.ServerConfig Config,
    Microsoft.Extensions.Logging.ILogger Log,
    Diagnostics.ServerStats Stats,
    Diagnostics.LatencyMonitor Latency);
