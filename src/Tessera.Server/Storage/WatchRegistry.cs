using System.Text;
using Tessera.Server.Sessions;

namespace Tessera.Server.Storage;

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
/// nobody watching, the checks cost one comparison per write. Used under the execution lock, and locked besides:
/// UNWATCH and DISCARD run while a busy script holds that lock.
/// </summary>
internal sealed class WatchRegistry(Keyspace keyspace)
{
    private readonly Dictionary<(int Db, string Key), List<ClientSession>> _watchers = [];
    private readonly Lock _gate = new();

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
        var expired = keyspace.Databases[db].IsLogicallyExpired(key);
        lock (_gate)
        {
            if (!_watchers.TryGetValue((db, name), out var clients))
            {
                clients = [];
                _watchers[(db, name)] = clients;
            }
            clients.Add(session);
            session.WatchedKeys.Add(new WatchedKey(db, name, expired));
        }
    }

    /// <summary>UNWATCH, EXEC, DISCARD, RESET and disconnection: forgets every key the session watches.</summary>
    public void UnwatchAll(ClientSession session)
    {
        if (session.WatchedKeys.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            UnwatchAllLocked(session);
        }
    }

    private void UnwatchAllLocked(ClientSession session)
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
    /// A write changed <paramref name="key"/> (Redis's touchWatchedKey): its watchers become dirty, except one
    /// that saw the key already expired at WATCH and finds it now deleted, which is no change.
    /// </summary>
    public void Touch(int db, ReadOnlySpan<byte> key)
    {
        if (_watchers.Count == 0)
        {
            return;
        }
        var name = Encoding.Latin1.GetString(key);
        lock (_gate)
        {
            if (_watchers.TryGetValue((db, name), out var clients))
            {
                TouchLocked(db, key, name, clients);
            }
        }
    }

    private void TouchLocked(int db, ReadOnlySpan<byte> key, string name, List<ClientSession> clients)
    {
        foreach (var session in clients)
        {
            var watched = session.WatchedKeys.First(w => w.Db == db && w.Key == name);
            if (watched.ExpiredAtWatch && !keyspace.Databases[db].Exists(key))
            {
                watched.ExpiredAtWatch = false;
                continue;
            }
            session.Flags |= ClientFlags.DirtyCas;
        }
    }

    /// <summary>
    /// Before FLUSHDB, FLUSHALL or SWAPDB (Redis's touchAllWatchedKeysInDb): watchers of keys that exist in
    /// <paramref name="db"/>, about to be emptied, or in <paramref name="replacedWith"/>, about to take its place,
    /// become dirty, except where nothing changes logically: a key already expired at WATCH that goes away or is
    /// replaced by another expired one, or a missing key replaced by an expired one (which then counts as expired
    /// at WATCH).
    /// </summary>
    public void TouchDatabase(Database db, Database? replacedWith)
    {
        lock (_gate)
        {
            TouchDatabaseLocked(db, replacedWith);
        }
    }

    private void TouchDatabaseLocked(Database db, Database? replacedWith)
    {
        foreach (var ((watchedDb, key), clients) in _watchers)
        {
            if (watchedDb != db.Index)
            {
                continue;
            }
            var name = Encoding.Latin1.GetBytes(key);
            var existsInEmptied = db.Exists(name);
            var existsInReplacement = replacedWith is not null && replacedWith.Exists(name);
            if (!existsInEmptied && !existsInReplacement)
            {
                continue;
            }
            foreach (var session in clients)
            {
                var watched = session.WatchedKeys.First(w => w.Db == watchedDb && w.Key == key);
                if (watched.ExpiredAtWatch)
                {
                    if (!existsInReplacement)
                    {
                        watched.ExpiredAtWatch = false;
                        continue;
                    }
                    if (replacedWith!.IsLogicallyExpired(name))
                    {
                        continue;
                    }
                }
                else if (!existsInEmptied && replacedWith!.IsLogicallyExpired(name))
                {
                    watched.ExpiredAtWatch = true;
                    continue;
                }
                session.Flags |= ClientFlags.DirtyCas;
            }
        }
    }
}
