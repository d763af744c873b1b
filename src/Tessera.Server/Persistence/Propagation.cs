using Tessera.Resp;

namespace Tessera.Server.Persistence;

/// <summary>Where a propagated command goes (Redis's PROPAGATE_AOF and PROPAGATE_REPL); scripts pick with redis.set_repl.</summary>
[Flags]
internal enum PropagationTargets
{
    None = 0,
    Aof = 1,
    Replicas = 2,
    All = Aof | Replicas,
}

/// <summary>Something propagated commands go to: the AOF, the replication stream.</summary>
internal interface IPropagationSink
{
    /// <summary>True while it takes commands; when no sink does, nothing is gathered.</summary>
    bool Accepting { get; }

    /// <summary>Takes a copy of what one command (or transaction, or script) propagated.</summary>
    void Feed(OutputBuffer commands);
}

/// <summary>
/// The propagation seam (Redis's propagateNow / alsoPropagate / propagatePendingCommands): every change to the
/// dataset is written once, as the RESP commands that reproduce it, for the AOF and the replication stream.
/// Commands with non-deterministic or time-relative effects propagate a rewrite (SPOP as SREM, EXPIRE as
/// PEXPIREAT); EXEC and scripts propagate the writes they ran. What one top-level command propagates is
/// gathered and handed on when it ends, wrapped in MULTI/EXEC when it is more than one command, so a replay
/// applies it atomically (but for a command that touches arbitrary keys, SCAN and RANDOMKEY expiring keys, as in
/// Redis). SELECT is inserted whenever the database changes; the first command's goes before MULTI, as Redis
/// propagates MULTI in that command's database. A command may go to the AOF or the replicas only (a script's
/// redis.set_repl): then the gathered commands are split by target when handed on, each SELECT going to both.
/// Used under the execution lock.
/// </summary>
internal sealed class Propagation(IPropagationSink aof, IPropagationSink replicas)
{
    private readonly RespWriter _pending = new();
    private readonly RespWriter _transaction = new();
    private readonly RespWriter _leadingSelect = new();
    private readonly RespWriter _replicaStream = new();
    private readonly RespWriter _discarded = new();

    // Where each part of _pending goes, once a command in it did not go everywhere: (start offset, targets).
    private readonly List<(int Start, PropagationTargets Targets)> _segments = [];
    private int _pendingCommands;
    private int _depth;
    private int _selectedDb = -1;
    private bool _noTransaction;

    private static readonly byte[] Del = "DEL"u8.ToArray();
    private static readonly byte[] Unlink = "UNLINK"u8.ToArray();

    /// <summary>How a key deleted by the server (expired, evicted) propagates: UNLINK under the lazyfree option, else DEL.</summary>
    public static byte[] DeleteCommand(bool lazy) => lazy ? Unlink : Del;

    /// <summary>True when something consumes the stream; otherwise nothing is gathered.</summary>
    public bool Active => aof.Accepting || replicas.Accepting;

    /// <summary>
    /// Starts a command: what it propagates is held until the outermost one ends. <paramref name="flags"/> are the
    /// outermost command's: one that touches arbitrary keys is not wrapped in a transaction.
    /// </summary>
    public void BeginCall(Core.Commands.CommandFlags flags)
    {
        if (_depth++ == 0)
        {
            _noTransaction = (flags & Core.Commands.CommandFlags.TouchesArbitraryKeys) != 0;
        }
    }

    /// <summary>Ends a command; the outermost hands on what was gathered.</summary>
    public void EndCall()
    {
        if (--_depth == 0 && _pendingCommands > 0)
        {
            Flush();
        }
    }

    /// <summary>Where the commands propagated from now on go (all but the ones a script keeps from some streams).</summary>
    public PropagationTargets Targets { get; set; } = PropagationTargets.All;

    /// <summary>
    /// Starts one propagated command of <paramref name="argumentCount"/> arguments in database
    /// <paramref name="db"/>; the caller writes the arguments as bulk strings to the returned writer.
    /// </summary>
    public RespWriter Begin(int db, int argumentCount)
    {
        if (Targets == PropagationTargets.None)
        {
            // Not propagated, and not counted: Redis does not gather it either.
            _discarded.Reset();
            return _discarded;
        }
        var split = Targets != PropagationTargets.All || _segments.Count > 0;
        if (db != _selectedDb && db >= 0)
        {
            var select = _pendingCommands == 0 ? _leadingSelect : _pending;
            if (split && select == _pending)
            {
                MarkSegment(PropagationTargets.All);
            }
            select.WriteArrayHeader(2);
            select.WriteBulk("SELECT"u8);
            select.WriteBulk(db);
            _selectedDb = db;
        }
        if (split)
        {
            MarkSegment(Targets);
        }
        _pendingCommands++;
        _pending.WriteArrayHeader(argumentCount);
        return _pending;
    }

    /// <summary>Propagates <paramref name="args"/> as they are.</summary>
    public void Command(int db, Request args)
    {
        var w = Begin(db, args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            w.WriteBulk(args[i]);
        }
        EndIfOutside();
    }

    /// <summary>Propagates a command given as its arguments (DEL of an expired key, rewrites).</summary>
    public void Command(int db, params ReadOnlySpan<byte[]> args)
    {
        var w = Begin(db, args.Length);
        foreach (var arg in args)
        {
            w.WriteBulk(arg);
        }
        EndIfOutside();
    }

    /// <summary>Outside any command (the cron expiring or evicting keys) a propagated command goes out at once.</summary>
    public void EndIfOutside()
    {
        if (_depth == 0)
        {
            Flush();
        }
    }

    /// <summary>The next command starts with a SELECT (a new AOF file, a new replica stream).</summary>
    public void ForgetSelectedDb() => _selectedDb = -1;

    /// <summary>The database the stream last selected, or -1 when its next command selects one.</summary>
    public int SelectedDb => _selectedDb;

    private void MarkSegment(PropagationTargets targets)
    {
        if (_segments.Count == 0 && !_pending.IsEmpty)
        {
            _segments.Add((0, PropagationTargets.All));
        }
        _segments.Add(((int)_pending.Length, targets));
    }

    private void Flush()
    {
        if (_segments.Count > 0)
        {
            FlushSplit();
            return;
        }
        var commands = _pending;
        if (!_leadingSelect.IsEmpty || (_pendingCommands > 1 && !_noTransaction))
        {
            Copy(_leadingSelect, _transaction);
            var wrap = _pendingCommands > 1 && !_noTransaction;
            if (wrap)
            {
                _transaction.WriteRaw("*1\r\n$5\r\nMULTI\r\n"u8);
            }
            Copy(_pending, _transaction);
            if (wrap)
            {
                _transaction.WriteRaw("*1\r\n$4\r\nEXEC\r\n"u8);
            }
            commands = _transaction;
        }
        _pendingCommands = 0;
        if (aof.Accepting)
        {
            aof.Feed(commands);
        }
        if (replicas.Accepting)
        {
            replicas.Feed(commands);
        }
        _pending.Reset();
        _transaction.Reset();
        _leadingSelect.Reset();
    }

    /// <summary>
    /// Hands on gathered commands that do not all go everywhere: the AOF and the replicas each get the SELECTs and
    /// their commands, inside MULTI/EXEC when more than one command was gathered in all (as Redis wraps them).
    /// </summary>
    private void FlushSplit()
    {
        var pending = new byte[_pending.Length];
        _pending.CopyTo(pending);
        var wrap = _pendingCommands > 1 && !_noTransaction;
        foreach (var (target, stream) in new[] { (PropagationTargets.Aof, _transaction), (PropagationTargets.Replicas, _replicaStream) })
        {
            Copy(_leadingSelect, stream);
            if (wrap)
            {
                stream.WriteRaw("*1\r\n$5\r\nMULTI\r\n"u8);
            }
            for (var i = 0; i < _segments.Count; i++)
            {
                var (start, targets) = _segments[i];
                if ((targets & target) != 0)
                {
                    var end = i + 1 < _segments.Count ? _segments[i + 1].Start : pending.Length;
                    stream.WriteRaw(pending.AsSpan(start, end - start));
                }
            }
            if (wrap)
            {
                stream.WriteRaw("*1\r\n$4\r\nEXEC\r\n"u8);
            }
        }
        _pendingCommands = 0;
        _segments.Clear();
        if (aof.Accepting)
        {
            aof.Feed(_transaction);
        }
        if (replicas.Accepting)
        {
            replicas.Feed(_replicaStream);
        }
        _pending.Reset();
        _transaction.Reset();
        _replicaStream.Reset();
        _leadingSelect.Reset();
    }

    /// <summary>Appends a copy of everything in <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static void Copy(OutputBuffer from, OutputBuffer to)
    {
        var length = (int)from.Length;
        if (length > 0)
        {
            from.CopyTo(to.GetSpan(length));
            to.Advance(length);
        }
    }
}
