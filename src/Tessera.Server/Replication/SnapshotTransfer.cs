using System.Globalization;
using System.Text;
using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>
/// A full synchronization's snapshot on its way to one replica. The replica's event loop pulls it a block at a
/// time whenever the connection's output is empty, so a snapshot of any size costs the master a few blocks of
/// memory per replica and a replica that reads slowly only slows its own transfer.
/// </summary>
internal abstract class SnapshotTransfer
{
    /// <summary>Bytes moved to a connection's output per pull: enough to keep the socket busy between wake-ups.</summary>
    private const int PullBytes = 256 * 1024;

    /// <summary>Runs under the execution lock on the replica's loop once everything was handed to its output.</summary>
    public Action? Sent { get; set; }

    /// <summary>
    /// Moves the next bytes to <paramref name="output"/>: true when some were moved, false when none are ready
    /// yet (the transfer wakes the loop when they are) or the transfer is complete (<see cref="IsComplete"/>).
    /// </summary>
    public bool PullInto(OutputBuffer output)
    {
        var moved = 0;
        while (moved < PullBytes && !IsComplete)
        {
            var span = output.GetSpan(OutputBuffer.ChunkSize);
            var n = Read(span);
            if (n <= 0)
            {
                IsComplete = n < 0;
                break;
            }
            output.Advance(n);
            moved += n;
        }
        return moved > 0;
    }

    /// <summary>True once the last byte was pulled.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>Fills <paramref name="destination"/>: the bytes read, 0 when none are ready yet, -1 at the end.</summary>
    protected abstract int Read(Span<byte> destination);

    /// <summary>The replica's connection closed: releases what the transfer holds.</summary>
    public abstract void Abandon();
}

/// <summary>
/// Disk-based synchronization: the snapshot file written for the replicas, sent as one bulk string
/// ("$length\r\n" then the bytes, with no CRLF after them, as Redis sends it).
/// </summary>
internal sealed class FileTransfer : SnapshotTransfer
{
    private readonly FileStream _file;
    private readonly byte[] _header;
    private int _headerSent;

    /// <summary>Opens <paramref name="path"/>; the caller may delete the file afterwards, the open handle keeps it readable.</summary>
    public FileTransfer(string path)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        _header = Encoding.ASCII.GetBytes("$" + _file.Length.ToString(CultureInfo.InvariantCulture) + "\r\n");
    }

    public long Length => _file.Length;

    protected override int Read(Span<byte> destination)
    {
        if (_headerSent < _header.Length)
        {
            var n = Math.Min(destination.Length, _header.Length - _headerSent);
            _header.AsSpan(_headerSent, n).CopyTo(destination);
            _headerSent += n;
            return n;
        }
        var read = _file.Read(destination);
        if (read == 0)
        {
            _file.Dispose();
            return -1;
        }
        return read;
    }

    public override void Abandon() => _file.Dispose();
}

/// <summary>
/// Diskless synchronization (<c>repl-diskless-sync</c>): the background save writes the snapshot into this
/// stream and every replica served by it reads the same bytes from memory, framed as Redis frames a transfer of
/// unknown length: "$EOF:" and a random 40-character mark, the snapshot, then the mark again. The writer waits
/// while the slowest reader is more than <see cref="MaxBuffered"/> bytes behind, so memory stays bounded.
/// </summary>
internal sealed class DisklessTransfer : Stream
{
    private const int BlockSize = 64 * 1024;
    private const long MaxBuffered = 16L << 20;

    private readonly object _gate = new();
    private readonly List<byte[]> _blocks = [];
    private readonly List<Reader> _readers = [];
    private readonly byte[] _mark;

    /// <summary>The stream position of the first byte of _blocks[0].</summary>
    private long _firstBlockAt;
    private long _written;
    private bool _ended;

    public DisklessTransfer()
    {
        _mark = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)));
        Append("$EOF:"u8);
        Append(_mark);
        Append("\r\n"u8);
    }

    /// <summary>A reader for one replica's connection; every reader starts at the first byte.</summary>
    public SnapshotTransfer ReaderFor(ClientSession session)
    {
        var reader = new Reader(this, session);
        lock (_gate)
        {
            _readers.Add(reader);
        }
        return reader;
    }

    /// <summary>True once every replica it served left: the save may stop.</summary>
    public bool Abandoned
    {
        get
        {
            lock (_gate)
            {
                return _readers.Count == 0;
            }
        }
    }

    /// <summary>The snapshot is complete: the closing mark follows, and readers end after it.</summary>
    public void Complete()
    {
        Append(_mark);
        End();
    }

    /// <summary>The save failed: readers end without the mark (their connections are closed anyway).</summary>
    public void End()
    {
        lock (_gate)
        {
            _ended = true;
        }
        WakeReaders();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            while (_readers.Count > 0 && _written - SlowestReader() > MaxBuffered)
            {
                Monitor.Wait(_gate, 100);
            }
        }
        Append(buffer);
        WakeReaders();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    private void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            while (!bytes.IsEmpty)
            {
                var used = (int)((_written - _firstBlockAt) % BlockSize);
                if (used == 0 && _written - _firstBlockAt == _blocks.Count * (long)BlockSize)
                {
                    _blocks.Add(new byte[BlockSize]);
                }
                var n = Math.Min(bytes.Length, BlockSize - used);
                bytes[..n].CopyTo(_blocks[^1].AsSpan(used));
                bytes = bytes[n..];
                _written += n;
            }
        }
    }

    private long SlowestReader()
    {
        var slowest = _written;
        foreach (var reader in _readers)
        {
            slowest = Math.Min(slowest, reader.Position);
        }
        return slowest;
    }

    /// <summary>Wakes the loops of readers that found nothing to read last time.</summary>
    private void WakeReaders()
    {
        lock (_gate)
        {
            foreach (var reader in _readers)
            {
                if (reader.Starved)
                {
                    reader.Starved = false;
                    reader.Session.Transport?.Wake();
                }
            }
        }
    }

    /// <summary>Copies from the reader's position; drops blocks every reader has passed and lets the writer go on.</summary>
    private int ReadAt(Reader reader, Span<byte> destination)
    {
        lock (_gate)
        {
            if (reader.Position == _written)
            {
                reader.Starved = !_ended;
                return _ended ? -1 : 0;
            }
            var offset = reader.Position - _firstBlockAt;
            var block = _blocks[(int)(offset / BlockSize)];
            var within = (int)(offset % BlockSize);
            var n = (int)Math.Min(Math.Min(destination.Length, BlockSize - within), _written - reader.Position);
            block.AsSpan(within, n).CopyTo(destination);
            reader.Position += n;
            Trim();
            return n;
        }
    }

    private void Trim()
    {
        var slowest = SlowestReader();
        var before = _blocks.Count;
        while (_blocks.Count > 1 && slowest - _firstBlockAt >= BlockSize)
        {
            _blocks.RemoveAt(0);
            _firstBlockAt += BlockSize;
        }
        if (_blocks.Count != before)
        {
            Monitor.PulseAll(_gate);
        }
    }

    private void Remove(Reader reader)
    {
        lock (_gate)
        {
            _readers.Remove(reader);
            Trim();
            Monitor.PulseAll(_gate);
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _written;

    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private sealed class Reader(DisklessTransfer transfer, ClientSession session) : SnapshotTransfer
    {
        public ClientSession Session { get; } = session;

        public long Position { get; set; }

        /// <summary>Set when a read found nothing: the next write wakes the loop.</summary>
        public bool Starved { get; set; }

        protected override int Read(Span<byte> destination) => transfer.ReadAt(this, destination);

        public override void Abandon() => transfer.Remove(this);
    }
}
