using System.Text;
using Microsoft.Extensions.Logging;
using Tessera.Core.Threading;
using Tessera.Server.Logging;
using Tessera.Server.Storage;

namespace Tessera.Server.Sessions;

/// <summary>
/// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN ...): per key a FIFO of waiting clients, the keys that became
/// ready since the last command, and the timeouts. When a write makes a key ready, the waiting clients re-run their
/// command in arrival order until one finds nothing; a client that times out gets its null reply. A timer fires
/// at the earliest deadline, so timeouts are precise to a few milliseconds. Used under the execution lock.
/// </summary>
internal sealed class BlockingRegistry : IDisposable
{
    private readonly Keyspace _keyspace;
    private readonly Lock _executionLock;
    private readonly Dictionary<(int Db, string Key), LinkedList<ClientSession>> _waiting = [];
    private readonly HashSet<(int Db, string Key)> _ready = [];
    private readonly List<(int Db, string Key)> _readyOrder = [];
    private readonly SortedSet<(long Deadline, long Id)> _deadlines = [];
    private readonly Dictionary<long, ClientSession> _byId = [];
    private readonly Timer _timer;
    private long _armedFor = long.MaxValue;

    public BlockingRegistry(Keyspace keyspace, Lock executionLock, ILogger log)
    {
        _keyspace = keyspace;
        _executionLock = executionLock;
        _timer = new Timer(_ => GuardedThread.Run(OnTimer, e => log.BackgroundJobFailed(e, "blocking timeouts")));
        keyspace.CollectionAdded = (db, value) => SignalReady(db.Index, value.Key);
    }

    /// <summary>Clients currently blocked (INFO blocked_clients).</summary>
    public int Count => _byId.Count;

    /// <summary>Blocked clients with a timeout (INFO clients_in_timeout_table).</summary>
    public int WithTimeoutCount => _deadlines.Count;

    /// <summary>True when a command made keys ready that blocked clients wait on.</summary>
    public bool HasReadyKeys => _readyOrder.Count > 0;

    /// <summary>Registers <paramref name="session"/> as waiting for <paramref name="blocked"/>.</summary>
    public void Block(ClientSession session, BlockedCommand blocked)
    {
        foreach (var key in blocked.Request.Keys)
        {
            var name = (blocked.Db, Name(key));
            if (!_waiting.TryGetValue(name, out var queue))
            {
                queue = new LinkedList<ClientSession>();
                _waiting[name] = queue;
            }
            if (!queue.Contains(session))
            {
                queue.AddLast(session);
            }
        }
        _byId[session.Id] = session;
        var deadline = blocked.Request.DeadlineMs;
        if (deadline > 0)
        {
            _deadlines.Add((deadline, session.Id));
            Arm(deadline);
        }
    }

    /// <summary>Forgets a client (disconnected) and ends its wait, without a reply.</summary>
    public void Remove(ClientSession session)
    {
        if (!_byId.Remove(session.Id) || session.Blocked is not { } blocked)
        {
            return;
        }
        foreach (var key in blocked.Request.Keys)
        {
            var name = (blocked.Db, Name(key));
            if (_waiting.TryGetValue(name, out var queue))
            {
                queue.Remove(session);
                if (queue.Count == 0)
                {
                    _waiting.Remove(name);
                }
            }
        }
        if (blocked.Request.DeadlineMs > 0)
        {
            _deadlines.Remove((blocked.Request.DeadlineMs, session.Id));
        }
    }

    /// <summary>Notes that <paramref name="key"/> was created, so clients waiting on it may be served.</summary>
    public void SignalReady(int db, ReadOnlySpan<byte> key)
    {
        if (_waiting.Count == 0)
        {
            return;
        }
        var name = (db, Name(key));
        if (_waiting.ContainsKey(name) && _ready.Add(name))
        {
            _readyOrder.Add(name);
        }
    }

    /// <summary>SWAPDB: every key waited on in database <paramref name="db"/> may now exist there.</summary>
    public void SignalDatabaseReady(int db)
    {
        var database = _keyspace.Databases[db];
        foreach (var name in _waiting.Keys)
        {
            if (name.Db == db && database.TryFindRaw(Encoding.Latin1.GetBytes(name.Key), out _) && _ready.Add(name))
            {
                _readyOrder.Add(name);
            }
        }
    }

    /// <summary>
    /// Serves clients waiting on keys made ready by the last command, first come first served per key, while the
    /// key still holds the type they wait for; serving one (BLMOVE) may make more keys ready, served in turn.
    /// </summary>
    public void ServeReadyKeys()
    {
        while (_readyOrder.Count > 0)
        {
            var batch = _readyOrder.ToArray();
            _readyOrder.Clear();
            _ready.Clear();
            foreach (var name in batch)
            {
                if (!_waiting.TryGetValue(name, out var queue))
                {
                    continue;
                }
                var key = Encoding.Latin1.GetBytes(name.Key);
                var db = _keyspace.Databases[name.Db];
                foreach (var session in queue.ToArray())
                {
                    if (!db.TryFindRaw(key, out var found))
                    {
                        break;
                    }
                    if (found.Item.GetType() != session.Blocked!.Request.ValueType)
                    {
                        continue;
                    }
                    // Each client is served at the time it is served, as Redis updates its cached time per client:
                    // a key that expired meanwhile (a DEBUG SLEEP in the EXEC that pushed) leaves it blocked.
                    _keyspace.UpdateClock(System.Diagnostics.Stopwatch.GetTimestamp());
                    if (session.RetryBlocked(key))
                    {
                        Finish(session);
                    }
                }
            }
        }
    }

    /// <summary>CLIENT UNBLOCK: ends the wait with the timeout reply, or with an UNBLOCKED error.</summary>
    public bool Unblock(long id, bool withError)
    {
        if (!_byId.TryGetValue(id, out var session))
        {
            return false;
        }
        session.EndBlock(withError ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : null);
        Finish(session);
        return true;
    }

    private void Finish(ClientSession session)
    {
        Remove(session);
        session.Unblock();
    }

    private void OnTimer()
    {
        lock (_executionLock)
        {
            _armedFor = long.MaxValue;
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            while (_deadlines.Count > 0 && _deadlines.Min.Deadline <= now)
            {
                var session = _byId[_deadlines.Min.Id];
                session.EndBlock(error: null);
                Finish(session);
            }
            if (_deadlines.Count > 0)
            {
                Arm(_deadlines.Min.Deadline);
            }
        }
    }

    private void Arm(long deadlineMs)
    {
        if (deadlineMs >= _armedFor)
        {
            return;
        }
        _armedFor = deadlineMs;
        // Timers take at most ~49 days; a later deadline is re-armed when the timer fires.
        var delay = Math.Clamp(deadlineMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, int.MaxValue);
        _timer.Change(TimeSpan.FromMilliseconds(delay), Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();

    private static string Name(ReadOnlySpan<byte> key) => Encoding.Latin1.GetString(key);
}
