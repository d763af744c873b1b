using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Tessera.Core.IO;
using Tessera.Core.Threading;
using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Sessions;

namespace Tessera.Server.Replication;

/// <summary>Where a replica's link to its master stands (ROLE's state, INFO's master_link_status).</summary>
internal enum MasterLinkState
{
    Connecting,
    Syncing,
    Connected,
}

/// <summary>
/// A replica's connection to its master (REPLICAOF host port), on a thread of its own: the handshake (PING,
/// AUTH with masterauth, REPLCONF listening-port and capa eof psync2), PSYNC with the last replication id and
/// offset, then either the snapshot of a full resynchronization (kept as the node's snapshot file and loaded in
/// place of the dataset) or +CONTINUE, then the master's stream applied command by command through a client of
/// its own, acknowledged every second and on REPLCONF GETACK. A lost link is retried, sooner at first and then
/// up to every <see cref="MaxRetryDelayMs"/>, with the id and offset reached, so it usually continues.
/// </summary>
internal sealed class MasterLink
{
    private const int ReadSize = 1 << 16;
    private const int FirstRetryDelayMs = 100;
    private const int MaxRetryDelayMs = 2000;

    /// <summary>Commands of the master's stream applied per hold of the execution lock.</summary>
    private const int BatchCommands = 256;

    private readonly TesseraServer _server;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;

    /// <summary>
    /// The client that applies the master's stream. It outlives a lost connection: a stream continued after
    /// +CONTINUE does not repeat the SELECT it already sent.
    /// </summary>
    private ClientSession _master;

    public MasterLink(TesseraServer server, string host, int port, int streamDb = 0)
    {
        _server = server;
        Host = host;
        Port = port;
        _master = NewMasterClient(streamDb);
        _thread = GuardedThread.Create("tessera-master-link", Run, e => server.Log.BackgroundJobFailed(e, "replication link"));
    }

    private ClientSession NewMasterClient(int db)
    {
        var session = new ClientSession(_server, -2, null, Host + ":" + Port.ToString(CultureInfo.InvariantCulture), "") { Flags = ClientFlags.Master };
        session.Select(db);
        return session;
    }

    /// <summary>The database the master's stream writes to now (the snapshot's <c>repl-stream-db</c>).</summary>
    public int StreamDb => _master.DbIndex;

    public string Host { get; }

    public int Port { get; }

    public MasterLinkState State { get; private set; } = MasterLinkState.Connecting;

    /// <summary>Environment.TickCount64 of the last bytes from the master (INFO master_last_io_seconds_ago).</summary>
    public long LastIoMs { get; private set; } = Environment.TickCount64;

    public void Start() => _thread.Start();

    /// <summary>Ends the link (REPLICAOF NO ONE, another master, shutdown) and waits for its thread.</summary>
    public void Stop()
    {
        _stop.Cancel();
        _socket?.Dispose();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        var retryDelayMs = FirstRetryDelayMs;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 1000 };
                _socket = socket;
                State = MasterLinkState.Connecting;
                socket.Connect(Host, Port);
                var reader = new LineReader(socket);
                Handshake(socket, reader);
                retryDelayMs = FirstRetryDelayMs;
                Stream(socket, reader);
            }
            catch (Exception e)
            {
                if (!_stop.IsCancellationRequested)
                {
                    if (e is not (SocketException or IOException or ObjectDisposedException or RdbFormatException or InvalidDataException))
                    {
                        // Not a network or format problem: a bug; the link is dropped and retried like any other.
                        _server.Log.BackgroundJobFailed(e, "replication link");
                    }
                    _server.Log.MasterLinkLost(Host, Port, e.Message);
                    lock (_server.ExecutionLock)
                    {
                        // A failover whose target cannot be reached or refuses: this node stays the master.
                        _server.Failover.Abort("Failover target handshake failed: " + e.Message);
                    }
                }
            }
            State = MasterLinkState.Connecting;
            _stop.Token.WaitHandle.WaitOne(retryDelayMs);
            retryDelayMs = Math.Min(MaxRetryDelayMs, retryDelayMs * 2);
        }
    }

    private void Handshake(Socket socket, LineReader reader)
    {
        Expect(Call(socket, reader, "PING"), "+PONG", allowError: "-NOAUTH");
        var config = _server.Config;
        if (config.MasterAuth.Value.Length > 0)
        {
            Expect(config.MasterUser.Value.Length > 0
                ? Call(socket, reader, "AUTH", config.MasterUser.Value, config.MasterAuth.Value)
                : Call(socket, reader, "AUTH", config.MasterAuth.Value), "+OK");
        }
        Expect(Call(socket, reader, "REPLCONF", "listening-port", _server.Port.ToString(CultureInfo.InvariantCulture)), "+OK");
        Expect(Call(socket, reader, "REPLCONF", "capa", "eof", "capa", "psync2"), "+OK");
        var master = _server.Replication;
        string id;
        long offset;
        bool failover;
        lock (_server.ExecutionLock)
        {
            (id, offset) = master.HasPosition ? (master.ReplicationId, master.Offset + 1) : ("?", -1);
            failover = _server.Failover.State == FailoverState.InProgress;
        }
        State = MasterLinkState.Syncing;
        // In a coordinated failover the old master asks its replica to promote itself before answering.
        Send(socket, failover ? ["PSYNC", id, offset.ToString(CultureInfo.InvariantCulture), "FAILOVER"] : ["PSYNC", id, offset.ToString(CultureInfo.InvariantCulture)]);
        // A master that delays a diskless snapshot answers once it starts, sending newlines meanwhile.
        var reply = reader.ReadLineAfterNewlines();
        if (failover && (reply.StartsWith("+FULLRESYNC ", StringComparison.Ordinal) || reply.StartsWith("+CONTINUE", StringComparison.Ordinal)))
        {
            lock (_server.ExecutionLock)
            {
                _server.Failover.Completed();
            }
        }
        if (reply.StartsWith("+FULLRESYNC ", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ');
            LoadSnapshot(reader, parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture));
        }
        else if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ');
            lock (_server.ExecutionLock)
            {
                if (parts.Length > 1)
                {
                    master.ContinuedWith(parts[1]);
                }
            }
            _server.Log.MasterContinues(Host, Port);
        }
        else
        {
            throw new InvalidDataException("unexpected reply to PSYNC: " + reply);
        }
        State = MasterLinkState.Connected;
    }

    /// <summary>
    /// Receives the snapshot ("$length" then the bytes, or "$EOF:mark" then the bytes and the mark; newlines
    /// before it keep the link alive) into a file that becomes the node's snapshot file, as Redis keeps it, and
    /// loads it in place of the dataset. An append-only file is stopped meanwhile and rewritten after.
    /// </summary>
    private void LoadSnapshot(LineReader reader, string id, long offset)
    {
        var header = reader.ReadLineAfterNewlines();
        var length = -1L;
        var eofMark = header.StartsWith("$EOF:", StringComparison.Ordinal) && header.Length == 5 + EofMarkLength ? Encoding.ASCII.GetBytes(header[5..]) : null;
        if (eofMark is null && (!header.StartsWith('$') || !long.TryParse(header.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out length)))
        {
            throw new InvalidDataException("bad snapshot header from master: " + header);
        }
        var path = Path.Combine(_server.Config.Dir, $"temp-{Environment.ProcessId}.{Environment.TickCount64}.rdb");
        try
        {
            using (var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
            {
                if (eofMark is null)
                {
                    reader.CopyTo(file, length);
                }
                else
                {
                    reader.CopyUntil(file, eofMark);
                }
                file.Flush(flushToDisk: true);
                file.Position = 0;
                lock (_server.ExecutionLock)
                {
                    var aof = _server.Aof.Enabled;
                    _server.Aof.Disable();
                    foreach (var db in _server.Keyspace.Databases)
                    {
                        db.Clear();
                    }
                    _server.Tracking.InvalidateAll();
                    _server.ScriptsIfStarted?.FlushLibraries();
                    _server.Snapshots.ReadInto(file);
                    _server.Replication.FullySyncedWith(id, offset);
                    _master = NewMasterClient(0);
                    if (aof)
                    {
                        _server.Aof.Enable();
                    }
                }
                length = file.Length;
            }
            DurableRename.Replace(path, _server.Snapshots.FilePath);
            _server.Log.MasterSynced(Host, Port, length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The length of the random mark around a diskless transfer.</summary>
    private const int EofMarkLength = 40;

    /// <summary>Applies the master's stream until the link ends, acknowledging the offset every second.</summary>
    private void Stream(Socket socket, LineReader reader)
    {
        var session = _master;
        var parser = new RequestParser { MaxBulkLength = long.MaxValue };
        var request = new Request();
        var (buffer, start, end) = reader.TakeBuffered();
        var lastAck = 0L;
        while (!_stop.IsCancellationRequested)
        {
            var now = Environment.TickCount64;
            if (now - lastAck >= 1000)
            {
                lastAck = now;
                SendAck(socket);
            }
            // The commands already received run under one hold of the lock (a bounded batch), and the bytes they
            // came in go on to the backlog and this node's replicas in one piece.
            var status = ParseStatus.Incomplete;
            var getAck = false;
            var batchStart = start;
            lock (_server.ExecutionLock)
            {
                for (var commands = 0; start < end && commands < BatchCommands && !getAck; commands++)
                {
                    status = parser.Parse(buffer, start, end, request, out var consumed);
                    if (status is ParseStatus.Incomplete or ParseStatus.Error)
                    {
                        break;
                    }
                    start += consumed;
                    if (status == ParseStatus.Skipped)
                    {
                        continue;
                    }
                    getAck = request.Count == 3 && Ascii.EqualsIgnoreCase(request[0], "replconf"u8) && Ascii.EqualsIgnoreCase(request[1], "getack"u8);
                    if (!getAck)
                    {
                        session.Replay(request);
                    }
                }
                if (start > batchStart)
                {
                    _server.Replication.Feed(buffer.AsSpan(batchStart, start - batchStart));
                }
            }
            if (status == ParseStatus.Error)
            {
                throw new InvalidDataException("protocol error in the master's stream: " + parser.Error);
            }
            if (getAck)
            {
                SendAck(socket);
            }
            else if (start == end || status == ParseStatus.Incomplete)
            {
                (buffer, start, end) = Receive(socket, buffer, start, end, parser.BytesNeeded);
            }
        }
    }

    private void SendAck(Socket socket)
    {
        long offset;
        lock (_server.ExecutionLock)
        {
            offset = _server.Replication.Offset;
        }
        Send(socket, "REPLCONF", "ACK", offset.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Reads more of the stream after the unparsed bytes; a receive timeout only returns to send the ACK.</summary>
    private (byte[] Buffer, int Start, int End) Receive(Socket socket, byte[] buffer, int start, int end, long needed)
    {
        var pending = end - start;
        var size = (int)Math.Min(Array.MaxLength, Math.Max(buffer.Length, Math.Max(needed, pending) + ReadSize));
        if (size > buffer.Length || start > 0)
        {
            var target = size > buffer.Length ? new byte[size] : buffer;
            Buffer.BlockCopy(buffer, start, target, 0, pending);
            buffer = target;
        }
        try
        {
            var read = socket.Receive(buffer, pending, buffer.Length - pending, SocketFlags.None);
            if (read == 0)
            {
                throw new IOException("the master closed the connection");
            }
            LastIoMs = Environment.TickCount64;
            return (buffer, 0, pending + read);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            if (Environment.TickCount64 - LastIoMs > _server.Config.ReplTimeout.Value * 1000)
            {
                throw new IOException("timeout: no data from the master");
            }
            return (buffer, 0, pending);
        }
    }

    private static string Call(Socket socket, LineReader reader, params string[] args)
    {
        Send(socket, args);
        return reader.ReadLine();
    }

    /// <summary>Sends a command to the master as a client does: an array of bulk strings.</summary>
    private static void Send(Socket socket, params string[] args)
    {
        var command = new RespWriter();
        command.WriteArrayHeader(args.Length);
        foreach (var arg in args)
        {
            command.WriteBulk(arg);
        }
        var bytes = new byte[command.Length];
        command.CopyTo(bytes);
        command.Clear();
        socket.Send(bytes);
    }

    private static void Expect(string reply, string expected, string? allowError = null)
    {
        if (reply != expected && !(allowError is not null && reply.StartsWith(allowError, StringComparison.Ordinal)))
        {
            throw new InvalidDataException($"the master answered '{reply}'");
        }
    }

    /// <summary>Reads CRLF lines and raw bytes from the master during the handshake and the snapshot.</summary>
    private sealed class LineReader(Socket socket)
    {
        private byte[] _buffer = new byte[ReadSize];
        private int _start;
        private int _end;

        public string ReadLine()
        {
            while (true)
            {
                var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = Encoding.ASCII.GetString(_buffer, _start, newline).TrimEnd('\r');
                    _start += newline + 1;
                    return line;
                }
                Fill();
            }
        }

        /// <summary>The next line that is not empty: a master keeps a waiting replica's link alive with newlines.</summary>
        public string ReadLineAfterNewlines()
        {
            string line;
            do
            {
                line = ReadLine();
            }
            while (line.Length == 0);
            return line;
        }

        /// <summary>Copies the next <paramref name="count"/> bytes to <paramref name="output"/>.</summary>
        public void CopyTo(Stream output, long count)
        {
            while (count > 0)
            {
                if (_start == _end)
                {
                    Fill();
                }
                var n = (int)Math.Min(count, _end - _start);
                output.Write(_buffer, _start, n);
                _start += n;
                count -= n;
            }
        }

        /// <summary>Copies the bytes before <paramref name="mark"/> to <paramref name="output"/> and skips the mark.</summary>
        public void CopyUntil(Stream output, ReadOnlySpan<byte> mark)
        {
            while (true)
            {
                var available = _buffer.AsSpan(_start, _end - _start);
                var at = available.IndexOf(mark);
                if (at >= 0)
                {
                    output.Write(available[..at]);
                    _start += at + mark.Length;
                    return;
                }
                // The last bytes may be the start of the mark: they wait for the next read.
                var safe = available.Length - (mark.Length - 1);
                if (safe > 0)
                {
                    output.Write(available[..safe]);
                    _start += safe;
                }
                Fill();
            }
        }

        /// <summary>The bytes read past the snapshot: the start of the stream.</summary>
        public (byte[] Buffer, int Start, int End) TakeBuffered() => (_buffer, _start, _end);

        private void Fill()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int read;
            try
            {
                read = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // The master may take a while to prepare the snapshot; the link's own timeout applies.
                return;
            }
            if (read == 0)
            {
                throw new IOException("the master closed the connection");
            }
            _end += read;
        }
    }
}
