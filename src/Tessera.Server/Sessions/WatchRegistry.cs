using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Sessions;

/// <summary>A key a client WATCHes, and whether it had already expired then (Redis's watchedKey).</summary>
internal sealed class WatchedKey(int db, string key, bool expiredAtWatch)
{
    public int Db { get; } = db;

    public string Key { get; } = key;

    /// <summary>Set when the key was logically expired at WATCH: its deletion is then no change.</summary>
    public bool ExpiredAtWatch { get; set; } = expiredAtWatch;
}

/// <summary>
/// WATCH (Redis's multi.c): per key the clients watching it. Any change to a watched key (a write command that
/// changed the dataset, expiry, eviction, FLUSHDB, SWAPDB) marks its watchers dirty, and their EXEC fails. With
/// nobody watching, the checks cost one comparison per write. Used under the execution lock.
/// </summary>
internal sealed class WatchRegistry(Keyspace keyspace)
{
    private readonly Dictionary<(int Db, string Key), List<ClientSession>> _watchers = [];
    private readonly List<int> _keyPositions = [];
    private readonly List<int> _readOnlyPositions = [];
    private readonly List<long> _before = [];
    private bool _popsFromOneKey;

    /// <summary>Keys watched by at least one client.</summary>
    public int Count => _watchers.Count;

    /// <summary>WATCH key: the session starts watching it in its database (once).</summary>
    public void Watch(ClientSession session, ReadOnlySpan<byte> key)
    {
        var name = Encoding.Latin1.GetString(key);
        var db = session.DbIndex;
        if (session.WatchedKeys.Any(w => w.Db == db && w.Key == name))
        {
            return;
        }
        if (!_watchers.TryGetValue((db, name), out var clients))
        {
            clients = [];
            _watchers[(db, name)] = clients;
        }
        clients.Add(session);
        session.WatchedKeys.Add(new WatchedKey(db, name, keyspace.Databases[db].IsLogicallyExpired(key)));
    }

    /// <summary>UNWATCH, EXEC, DISCARD, RESET and disconnection: forgets every key the session watches.</summary>
    public void UnwatchAll(ClientSession session)
    {
        foreach (var watched in session.WatchedKeys)
        {
            if (_watchers.TryGetValue((watched.Db, watched.Key), out var clients))
            {
                clients.Remove(session);
                if (clients.Count == 0)
                {
                    _watchers.Remove((watched.Db, watched.Key));
                }
            }
        }
        session.WatchedKeys.Clear();
    }

    /// <summary>
    /// EXEC: true when a watched key expired since WATCH without being deleted yet, which counts as a change.
    /// </summary>
    public bool AnyExpiredSinceWatch(ClientSession session)
        => session.WatchedKeys.Any(w => !w.ExpiredAtWatch && keyspace.Databases[w.Db].IsLogicallyExpired(Encoding.Latin1.GetBytes(w.Key)));

    /// <summary>
    /// Marks the watchers of <paramref name="key"/> dirty (Redis's touchWatchedKey). A watcher that saw the key
    /// already expired is not dirtied when the key is merely deleted.
    /// </summary>
    public void Touch(int db, ReadOnlySpan<byte> key, bool deleted)
    {
        if (_watchers.Count == 0)
        {
            return;
        }
        var name = Encoding.Latin1.GetString(key);
        if (!_watchers.TryGetValue((db, name), out var clients))
        {
            return;
        }
        foreach (var session in clients)
        {
            var watched = session.WatchedKeys.First(w => w.Db == db && w.Key == name);
            if (watched.ExpiredAtWatch && deleted)
            {
                watched.ExpiredAtWatch = false;
                continue;
            }
            session.Flags |= ClientFlags.DirtyCas;
        }
    }

    /// <summary>
    /// Before a write command: finds the keys it may write (its key specs that are not read-only) and notes
    /// which of the watched ones exist, so <see cref="AfterWrite"/> can tell a key written from one only named.
    /// False when it names no watched key.
    /// </summary>
    public bool BeforeWrite(CommandInfo command, Request args, Database db)
    {
        var positions = _keyPositions;
        var readOnly = _readOnlyPositions;
        positions.Clear();
        readOnly.Clear();
        var specsServe = command.KeySpecs.Count > 0;
        foreach (var spec in command.KeySpecs)
        {
            if (spec.NotKey)
            {
                continue;
            }
            if (spec.Flags.Contains("RO"))
            {
                spec.AddKeys(args, 0, readOnly);
            }
            else if (!spec.AddKeys(args, 0, positions))
            {
                specsServe = false;
            }
        }
        if (!specsServe)
        {
            // Keys the specs cannot locate (SORT ... STORE): those the command's own finder reports, except the
            // ones read-only specs did locate.
            positions.Clear();
            KeyExtractor.GetKeys(command, args, 0, positions);
            positions.RemoveAll(readOnly.Contains);
        }
        if (command.Name == "copy" && CopiesToAnotherDatabase(args))
        {
            // COPY ... DB n writes its destination elsewhere; the command touches it there itself.
            positions.Remove(2);
        }
        positions.RemoveAll(p => !_watchers.ContainsKey((db.Index, Encoding.Latin1.GetString(args[p]))));
        _popsFromOneKey = command.Name is "lmpop" or "blmpop" or "zmpop" or "bzmpop" or "blpop" or "brpop" or "bzpopmin" or "bzpopmax";
        _before.Clear();
        foreach (var position in positions)
        {
            _before.Add(State(db, args[position]));
        }
        return positions.Count > 0;
    }

    private static bool CopiesToAnotherDatabase(Request args)
    {
        for (var i = 3; i < args.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(args[i], "db"u8))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>-1 for a missing key, else its element count for lists and sorted sets (0 for other types).</summary>
    private static long State(Database db, ReadOnlySpan<byte> key)
    {
        if (!db.TryFindRaw(key, out var found))
        {
            return -1;
        }
        return found.Item switch
        {
            ListValue list => list.Count,
            SortedSetValue zset => zset.Count,
            _ => 0,
        };
    }

    /// <summary>
    /// After a write command that changed the dataset: touches the watched keys found by
    /// <see cref="BeforeWrite"/> that existed before or exist now (DEL of a missing key changes nothing). The
    /// commands that pop from the first non-empty of several keys changed only the one whose size changed.
    /// </summary>
    public void AfterWrite(Request args, Database db)
    {
        for (var i = 0; i < _keyPositions.Count; i++)
        {
            var key = args[_keyPositions[i]];
            var now = State(db, key);
            var changed = _popsFromOneKey ? now != _before[i] : now >= 0 || _before[i] >= 0;
            if (changed)
            {
                Touch(db.Index, key, deleted: now < 0);
            }
        }
    }

    /// <summary>
    /// Before FLUSHDB, FLUSHALL or SWAPDB (Redis's touchAllWatchedKeysInDb): watchers of keys that exist in
    /// <paramref name="db"/>, about to be emptied, or in <paramref name="replacedWith"/>, about to take its place,
    /// become dirty.
    /// </summary>
    public void TouchDatabase(Database db, Database? replacedWith)
    {
        foreach (var ((watchedDb, key), clients) in _watchers)
        {
            if (watchedDb != db.Index)
            {
                continue;
            }
            var name = Encoding.Latin1.GetBytes(key);
            if (db.Exists(name) || (replacedWith is not null && replacedWith.Exists(name)))
            {
                foreach (var session in clients)
                {
                    session.Flags |= ClientFlags.DirtyCas;
                }
            }
        }
    }
}
