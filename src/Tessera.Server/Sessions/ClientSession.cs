using System.Buffers;
using System.Diagnostics;
using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Logging;
using Tessera.Server.Storage;

namespace Tessera.Server.Sessions;

/// <summary>
/// One client connection's state and its command pipeline. The transport appends received bytes
/// (<see cref="GetReadBuffer"/>, <see cref="CommitRead"/>) and calls <see cref="ProcessInput"/>, which parses every
/// complete command and runs it under the server's execution lock, writing replies to <see cref="Output"/> for
/// the transport to send. Sessions never touch sockets, so tests and benchmarks drive them in memory.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>Stop running pipelined commands once this much output waits, until the client reads it.</summary>
    public const int OutputBackpressureBytes = 4 * 1024 * 1024;

    private const int ReadSize = 16 * 1024;

    private readonly TesseraServer _server;
    private readonly RequestParser _parser = new();
    private readonly Request _request = new();
    private readonly CommandContext _context;
    private readonly RespWriter _remote = new();
    private readonly Lock _remoteLock = new();
    private readonly byte[] _lastName = new byte[24];
    private readonly List<int> _keyPositions = [];
    private int _lastNameLength;
    private ServerCommand? _lastCommand;
    private byte[]? _input;
    private int _inputStart;
    private int _inputEnd;

    public ClientSession(TesseraServer server, long id, IClientTransport? transport, string remoteAddress, string localAddress)
    {
        _server = server;
        Id = id;
        Transport = transport;
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        Db = server.Keyspace.Databases[0];
        _context = new CommandContext(this, server);
        CreatedMs = Environment.TickCount64;
        LastInteractionMs = CreatedMs;
        User = server.Acl.Default;
        Authenticated = !server.Acl.AuthRequired;
        _parser.MaxBulkLength = server.Config.ProtoMaxBulkLen.Value;
        _parser.Unauthenticated = !Authenticated;
    }

    public long Id { get; }

    /// <summary>Replies waiting to be sent, written by this session's own commands.</summary>
    public RespWriter Output { get; } = new();

    public IClientTransport? Transport { get; }

    public string RemoteAddress { get; }

    public string LocalAddress { get; }

    /// <summary>CLIENT SETNAME's name, or null.</summary>
    public byte[]? Name { get; set; }

    public Database Db { get; private set; }

    public bool Authenticated { get; private set; }

    /// <summary>The ACL user the connection runs as ("default" until AUTH).</summary>
    public Acl.AclUser User { get; private set; }

    public ClientFlags Flags { get; set; }

    /// <summary>Environment.TickCount64 at connect and at the last command.</summary>
    public long CreatedMs { get; }

    public long LastInteractionMs { get; private set; }

    /// <summary>The command processed last (or now), for CLIENT LIST's cmd field; null after an unknown one.</summary>
    public ServerCommand? LastCommand { get; private set; }

    /// <summary>Library name and version from CLIENT SETINFO-like HELLO fields; unused by Redis 7.0.</summary>
    public int Protocol
    {
        get => Output.Protocol;
        set
        {
            Output.Protocol = value;
            lock (_remoteLock)
            {
                _remote.Protocol = value;
            }
        }
    }

    /// <summary>
    /// With appendfsync always, the AOF offset that must be on disk before the replies waiting in
    /// <see cref="Output"/> may be sent (<see cref="Persistence.Aof.AppendOnlyFile.WaitDurable"/>); -1 when none.
    /// </summary>
    public long DurableOffset { get; set; } = -1;

    /// <summary>Bytes received and not yet run.</summary>
    public int PendingInput => _inputEnd - _inputStart;

    /// <summary>Size of the input buffer (qbuf + qbuf-free in CLIENT LIST).</summary>
    public int InputCapacity => _input?.Length ?? 0;

    /// <summary>True when the client asked to be closed once its replies are sent.</summary>
    public bool ClosingAfterReply => (Flags & ClientFlags.CloseAfterReply) != 0;

    /// <summary>True while commands wait (CLIENT PAUSE, a blocking command); the transport stops reading meanwhile.</summary>
    public bool Postponed => (Flags & (ClientFlags.Paused | ClientFlags.Blocked)) != 0;

    /// <summary>Space to receive at least <paramref name="sizeHint"/> bytes into.</summary>
    public Span<byte> GetReadBuffer(int sizeHint = ReadSize)
    {
        // A large bulk argument in progress: make room for all of it at once.
        var needed = Math.Max(sizeHint, (int)Math.Min(int.MaxValue - 64, _parser.BytesNeeded - PendingInput));
        if (_input is null)
        {
            _input = ArrayPool<byte>.Shared.Rent(Math.Max(ReadSize, needed));
        }
        else if (_input.Length - _inputEnd < needed)
        {
            var pending = PendingInput;
            if (_input.Length - pending >= needed && _inputStart > 0)
            {
                Buffer.BlockCopy(_input, _inputStart, _input, 0, pending);
            }
            else
            {
                var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max((long)_input.Length * 2, (long)pending + needed)));
                Buffer.BlockCopy(_input, _inputStart, larger, 0, pending);
                ArrayPool<byte>.Shared.Return(_input);
                _input = larger;
            }
            _inputStart = 0;
            _inputEnd = pending;
        }
        return _input.AsSpan(_inputEnd);
    }

    /// <summary>Records that <paramref name="count"/> bytes were received into the span from <see cref="GetReadBuffer"/>.</summary>
    public void CommitRead(int count) => _inputEnd += count;

    /// <summary>Appends bytes as if received (in-memory transport, tests, benchmarks).</summary>
    public void Receive(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = GetReadBuffer(Math.Min(bytes.Length, ReadSize));
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            CommitRead(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>
    /// Runs every complete command received, in order, under the execution lock (taken once for the batch).
    /// Stops early when the client must close, is postponed by CLIENT PAUSE, or has too much unread output.
    /// </summary>
    public void ProcessInput()
    {
        if (_remotePending)
        {
            // A reply served from elsewhere (an unblocked BLPOP) goes before the replies of later commands.
            DrainRemoteOutput();
        }
        using var running = Running();
        var locked = false;
        Processing = true;
        try
        {
            while (_inputStart < _inputEnd && (Flags & (ClientFlags.CloseAfterReply | ClientFlags.Paused | ClientFlags.Blocked)) == 0
                && Output.Length < OutputBackpressureBytes)
            {
                var status = _parser.Parse(_input!, _inputStart, _inputEnd, _request, out var consumed);
                if (status == ParseStatus.Incomplete)
                {
                    break;
                }
                if (status == ParseStatus.Error)
                {
                    Output.WriteError("ERR " + _parser.Error);
                    _server.Stats.CountError("ERR");
                    Flags |= ClientFlags.CloseAfterReply;
                    _inputStart = _inputEnd;
                    break;
                }
                if (status == ParseStatus.Skipped)
                {
                    _inputStart += consumed;
                    continue;
                }
                var busy = false;
                if (!locked)
                {
                    busy = !_server.TryEnterExecution();
                    locked = !busy;
                }
                var outcome = ProcessCommand(busy);
                if (outcome == CommandOutcome.Postponed)
                {
                    // The command stays in the buffer and is parsed again on resume.
                    break;
                }
                if (outcome == CommandOutcome.Done)
                {
                    _inputStart += consumed;
                    EndCachingChoice();
                }
            }
        }
        finally
        {
            Processing = false;
            if (locked)
            {
                // The batch's writes reach the AOF before its replies are sent; with appendfsync always the
                // transport also waits for the disk before sending (see DurableOffset).
                DurableOffset = Math.Max(DurableOffset, _server.Aof.WriteBuffered());
                _server.ExecutionLock.Exit();
            }
        }
        if (_inputStart == _inputEnd && _input is not null && !_parser.InProgress)
        {
            ArrayPool<byte>.Shared.Return(_input);
            _input = null;
            _inputStart = 0;
            _inputEnd = 0;
        }
    }

    /// <summary>
    /// Redis's processCommand for the request just parsed: lookup, arity, authentication, memory, pause, then
    /// run it and account for it. <paramref name="busy"/>: a script is busy and this client does not hold the
    /// execution lock; the steps that need it are skipped, and only what Redis allows while busy runs.
    /// </summary>
    private CommandOutcome ProcessCommand(bool busy)
    {
        var args = _request;
        var server = _server;
        LastInteractionMs = Environment.TickCount64;

        var command = FindCommand(args[0]);
        if (command is not null && command.Info.HasSubcommands && args.Count > 1)
        {
            var sub = command.FindSubcommand(args[1]);
            if (sub is null)
            {
                LastCommand = null;
                Reject(null, $"ERR unknown subcommand '{CommandReplies.Truncated(args[1], 128)}'. Try {command.Info.Name.ToUpperInvariant()} HELP.");
                return CommandOutcome.Done;
            }
            command = sub;
        }
        // As Redis's processCommand: what CLIENT LIST shows as cmd= is the command being processed, from lookup on.
        LastCommand = command;
        if (command is null)
        {
            Reject(null, CommandReplies.UnknownCommandError(args));
            return CommandOutcome.Done;
        }
        if (!command.Info.AcceptsArgumentCount(args.Count))
        {
            Reject(command, $"ERR wrong number of arguments for '{command.Info.FullName}' command");
            return CommandOutcome.Done;
        }
        if (command.Handler is null)
        {
            Reject(command, $"ERR unknown subcommand '{CommandReplies.Truncated(args[1], 128)}'. Try {command.Info.Name.ToUpperInvariant()} HELP.");
            return CommandOutcome.Done;
        }
        if ((command.Info.Flags & Core.Commands.CommandFlags.Protected) != 0 && ProtectedCommandRefused(command.Info) is { } refused)
        {
            Reject(command, refused);
            return CommandOutcome.Done;
        }
        if (!Authenticated && (command.Info.Flags & Core.Commands.CommandFlags.NoAuth) == 0)
        {
            Reject(command, "NOAUTH Authentication required.");
            return CommandOutcome.Done;
        }
        var inMulti = (Flags & ClientFlags.Multi) != 0;
        if (inMulti && (command.Info.Flags & Core.Commands.CommandFlags.NoMulti) != 0)
        {
            Reject(command, "ERR Command not allowed inside a transaction");
            return CommandOutcome.Done;
        }
        if (PermissionError(command, args) is { } denied)
        {
            Reject(command, denied);
            return CommandOutcome.Done;
        }
        var inExec = inMulti && command.Info == ExecInfo;
        // Redis's cluster redirection: a command whose keys another node serves (its master's stream excepted).
        if (!busy && server.Cluster is { } cluster && (Flags & ClientFlags.Master) == 0 && cluster.Redirect(this, command.Info, args, inExec) is { } redirect)
        {
            Reject(command, redirect, redirection: true);
            return CommandOutcome.Done;
        }
        // EVAL and FCALL take the flags their script declares (Redis's getCommandFlags).
        var flags = command.FlagsFor is { } declared ? declared(command.Info, args) : command.Info.Flags;
        var writes = (flags & Core.Commands.CommandFlags.Write) != 0
            || (inExec && AnyQueued(Core.Commands.CommandFlags.Write, flagged: true));
        if (writes && ReplicationRefusesWrite() is { } refusal)
        {
            Reject(command, refusal);
            return CommandOutcome.Done;
        }
        if (server.Loading.Active && (command.Info.Flags & Core.Commands.CommandFlags.Loading) == 0)
        {
            Reject(command, "LOADING Redis is loading the dataset in memory");
            return CommandOutcome.Done;
        }
        if (Protocol == 2 && InPubSubMode && (command.Info.Flags & Core.Commands.CommandFlags.SubscribeContext) == 0)
        {
            Reject(command, $"ERR Can't execute '{command.Info.FullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return CommandOutcome.Done;
        }
        if (server.Replication.Link is { State: not Replication.MasterLinkState.Connected } && !server.Config.ReplicaServeStaleData.Value
            && ((flags & Core.Commands.CommandFlags.Stale) == 0
                || (inExec && AnyQueued(Core.Commands.CommandFlags.Stale, flagged: false))))
        {
            Reject(command, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
            return CommandOutcome.Done;
        }
        if (busy)
        {
            return ProcessCommandWhileBusy(command, args, inMulti);
        }
        var start = Stopwatch.GetTimestamp();
        server.Keyspace.UpdateClock(start);
        // Inside MULTI every command but the transaction's own ones is queued (Redis's processCommand).
        var queues = inMulti && (command.Info.Flags & Core.Commands.CommandFlags.TransactionControl) == 0;
        PreCommandOom = server.Config.MaxMemory.Value > 0 && !server.Evictor.FreeMemoryIfNeeded();
        if (PreCommandOom
            && ((flags & Core.Commands.CommandFlags.DenyOom) != 0 || queues
                || (inExec && AnyQueued(Core.Commands.CommandFlags.DenyOom, flagged: true))))
        {
            Reject(command, "OOM command not allowed when used memory > 'maxmemory'.");
            return CommandOutcome.Done;
        }
        if (server.Tracking.Clients > 0)
        {
            // Keeps the tracking table within tracking-table-max-keys; invalidations go before this reply.
            server.Tracking.LimitKeys();
        }
        if (queues)
        {
            QueueCommand(command, args);
            return CommandOutcome.Done;
        }
        if (server.ClientPause.ShouldPostpone(flags) || (inExec && QueuedCommandsPostponed()))
        {
            Flags |= ClientFlags.Paused;
            server.ClientPause.Postpone(this);
            return CommandOutcome.Postponed;
        }
        Execute(command, args, start);
        return CommandOutcome.Done;
    }

    /// <summary>
    /// The command named <paramref name="name"/>; the last one found is remembered, since pipelines repeat commands.
    /// </summary>
    private ServerCommand? FindCommand(ReadOnlySpan<byte> name)
    {
        if (_lastCommand is not null && name.Length == _lastNameLength && name.SequenceEqual(_lastName.AsSpan(0, _lastNameLength)))
        {
            return _lastCommand;
        }
        var command = _server.Commands.Find(name);
        if (command is not null && name.Length <= _lastName.Length)
        {
            name.CopyTo(_lastName);
            _lastNameLength = name.Length;
            _lastCommand = command;
        }
        return command;
    }

    private void Execute(ServerCommand command, Request args, long start)
    {
        var server = _server;
        var replyStart = Output.Length;
        var context = _context;
        context.Args = args;
        context.Command = command;
        context.Failed = false;
        RunHandler(context);
        if (context.BlockRequest is { } block)
        {
            context.ClearBlockRequest();
            BeginBlock(command, args, block);
        }
        if (server.Tracking.Clients > 0)
        {
            // After the reply (a transaction's as a whole): the invalidations this command caused to this client,
            // then the BCAST ones, which Redis sends once per event loop turn.
            server.Tracking.SendPending(this);
            server.Tracking.Broadcast();
        }
        Account(command, context, start);
        ApplyReplyMode(replyStart);
        if (Output.Length > OutputBuffer.ChunkSize || ReplyOverflowed)
        {
            CloseIfOverOutputLimit();
        }
        if (server.Blocking.HasReadyKeys)
        {
            // After the whole command: a push inside EXEC serves waiting clients only once the transaction is done.
            server.Blocking.ServeReadyKeys();
        }
    }

    /// <summary>
    /// Runs a command inside another one (queued in EXEC, called by a script) with its own context, counted in
    /// the statistics like any command.
    /// </summary>
    private void RunNested(CommandContext context, ServerCommand command, byte[][] args)
    {
        var start = Stopwatch.GetTimestamp();
        context.Args.Set(args);
        context.Command = command;
        context.Failed = false;
        RunHandler(context);
        Account(command, context, start);
    }

    /// <summary>Statistics, slow log and MONITOR for a command just run (at top level or inside EXEC).</summary>
    private void Account(ServerCommand command, CommandContext context, long start)
    {
        var server = _server;
        var nanoseconds = (long)Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        command.RecordCall(nanoseconds, context.Failed, server.Config.LatencyTracking.Value);
        server.Stats.CommandsProcessed++;
        server.Slowlog.Record(this, command.Info, context.Args, nanoseconds / 1000);
        server.Latency.AddIfNeeded(command.Info.Flags.HasFlag(CommandFlags.Fast) ? "fast-command" : "command", nanoseconds / 1_000_000);
        if (server.Monitors.Count > 0)
        {
            server.FeedMonitors(this, command, context.Args, fromScript: context == _scriptContext);
        }
    }

    /// <summary>
    /// Runs the command's handler. A failure inside it (a bug, not bad input, which handlers answer themselves)
    /// becomes an error reply and a log entry instead of taking the node down with every client.
    /// </summary>
    private void RunHandler(CommandContext context)
    {
        var replyStart = context.Reply.Length;
        var caller = _server.CurrentClient;
        _server.CurrentClient = this;
        if (_server.Keyspace.Snapshot is not null)
        {
            BeforeWrite(context);
        }
        var propagation = _server.Propagation;
        var propagating = propagation.Active;
        var changes = _server.Changes.Total;
        if (propagating)
        {
            propagation.BeginCall(context.Command.Info.Flags);
            context.Propagated = false;
        }
        try
        {
            context.Command.Handler!(context);
            if (Tracking is { IsOn: true } tracking && (tracking.Flags & Caching.TrackingFlags.Broadcast) == 0)
            {
                RememberTrackedKeys(context);
            }
            // As Redis's call(): whatever changed data propagates, PFCOUNT caching its estimate included.
            if (propagating && !context.Propagated && _server.Changes.Total != changes)
            {
                propagation.Command(Db.Index, context.Args);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context.Reply.TruncateTo(replyStart);
            context.Error($"ERR internal error while running '{context.CommandName}'");
            _server.Log.CommandFailed(e, context.CommandName);
        }
        finally
        {
            _server.CurrentClient = caller;
            if (propagating)
            {
                propagation.EndCall();
            }
        }
    }

    /// <summary>
    /// While a background save runs, a write command first lets it read the slots of its keys: the handler may
    /// change their values in place.
    /// </summary>
    private void BeforeWrite(CommandContext context)
    {
        if ((context.Command.Info.Flags & (Core.Commands.CommandFlags.Write | Core.Commands.CommandFlags.MayReplicate)) == 0)
        {
            return;
        }
        _keyPositions.Clear();
        Core.Commands.KeyExtractor.GetKeys(context.Command.Info, context.Args, 0, _keyPositions);
        foreach (var position in _keyPositions)
        {
            context.Db.BeforeValueChange(context.Args[position]);
        }
    }

    /// <summary>
    /// CLIENT REPLY OFF/SKIP: drops what the command wrote when replies are off (checked after the command, so
    /// CLIENT REPLY ON's own +OK survives) or skipped for this one command, then arms SKIP for the next command.
    /// </summary>
    private void ApplyReplyMode(long replyStart)
    {
        if ((Flags & (ClientFlags.ReplyOff | ClientFlags.ReplySkip)) != 0)
        {
            Output.TruncateTo(replyStart);
            if (_silencedPushes is { IsEmpty: false })
            {
                Output.TakeFrom(_silencedPushes);
            }
        }
        Flags &= ~ClientFlags.ReplySkip;
        if ((Flags & ClientFlags.ReplySkipNext) != 0)
        {
            Flags = (Flags & ~ClientFlags.ReplySkipNext) | ClientFlags.ReplySkip;
        }
    }

    /// <summary>EXEC's entry in the command table: the pipeline treats it specially, as Redis compares its proc.</summary>
    private static readonly CommandInfo ExecInfo = CommandTable.Redis.Find("exec")!;

    /// <summary>
    /// Why a protected command (DEBUG, MODULE LOAD/LOADEX/UNLOAD) may not run for this client under its
    /// enable-debug-command / enable-module-command setting, in Redis's words; null when it may.
    /// </summary>
    private string? ProtectedCommandRefused(CommandInfo command)
    {
        var name = (command.Parent ?? command).Name;
        var option = name == "debug" ? _server.Config.EnableDebugCommand : _server.Config.EnableModuleCommand;
        return _server.AllowsProtected(option, this) ? null
            : $"ERR {name.ToUpperInvariant()} command not allowed. If the {option.Name} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    }

    /// <summary>
    /// Refuses a command before it runs (Redis's rejectCommand): inside MULTI the transaction is flagged so EXEC
    /// aborts; a refused EXEC discards it at once and answers EXECABORT, except for a cluster
    /// <paramref name="redirection"/>, which Redis answers as it is.
    /// </summary>
    private void Reject(ServerCommand? command, string error, bool redirection = false)
    {
        if (command is not null)
        {
            command.RejectedCalls++;
        }
        var replyStart = Output.Length;
        if (command?.Info == ExecInfo)
        {
            // Redis's rejectCommand: a refused EXEC aborts the transaction, even when none was open.
            DiscardTransaction();
            // Redis formats the reason without its generic ERR code.
            error = redirection ? error : "EXECABORT Transaction discarded because of: " + (error.StartsWith("ERR ", StringComparison.Ordinal) ? error[4..] : error);
        }
        else if ((Flags & ClientFlags.Multi) != 0)
        {
            Flags |= ClientFlags.DirtyExec;
        }
        _server.Stats.CountError(error[..error.IndexOf(' ')]);
        Output.WriteError(error);
        ApplyReplyMode(replyStart);
    }
}
