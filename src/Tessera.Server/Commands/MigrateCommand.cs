using System.Net.Sockets;
using System.Text;
using Tessera.Client;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Pubsub;
using Tessera.Server.Sessions;
using Tessera.Server.Storage;

namespace Tessera.Server.Commands;

/// <summary>
/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key...] (Redis's
/// cluster.c): the keys go to the target as RESTORE (RESTORE-ASKING in cluster mode) of their DUMP payloads, all in
/// one pipeline, and each is deleted here once the target said OK. It runs under the execution lock like any
/// command, so no client sees a key in neither place or changed in between. Connections are kept per target for
/// ten seconds, as Redis, so resharding slot after slot does not reconnect each time.
/// </summary>
internal sealed class MigrateCommand
{
    private const long IdleCloseMs = 10_000;

    private readonly Dictionary<string, CachedConnection> _connections = [];

    public static void Register(CommandRegistry r)
    {
        var migrate = new MigrateCommand();
        r.Add("migrate", migrate.Migrate);
        r.Add("restore-asking", DumpCommands.Restore);
    }

    private sealed class CachedConnection(RedisConnection connection)
    {
        public RedisConnection Connection { get; } = connection;

        /// <summary>The database the target's connection has selected, or -1 before any SELECT.</summary>
        public long Db { get; set; } = -1;

        public long LastUseMs { get; set; } = Environment.TickCount64;
    }

    private void Migrate(CommandContext c)
    {
        var (copy, replace) = (false, false);
        string? user = null;
        string? password = null;
        var firstKey = 3;
        var keyCount = 1;
        for (var i = 6; i < c.ArgCount; i++)
        {
            var more = c.ArgCount - i - 1;
            if (c.ArgIs(i, "copy"u8))
            {
                copy = true;
            }
            else if (c.ArgIs(i, "replace"u8))
            {
                replace = true;
            }
            else if (c.ArgIs(i, "auth"u8) && more >= 1)
            {
                password = Encoding.UTF8.GetString(c.Arg(++i));
            }
            else if (c.ArgIs(i, "auth2"u8) && more >= 2)
            {
                user = Encoding.UTF8.GetString(c.Arg(++i));
                password = Encoding.UTF8.GetString(c.Arg(++i));
            }
            else if (c.ArgIs(i, "keys"u8))
            {
                if (c.Arg(3).Length != 0)
                {
                    c.Error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                    return;
                }
                firstKey = i + 1;
                keyCount = c.ArgCount - i - 1;
                break;
            }
            else
            {
                c.SyntaxError();
                return;
            }
        }
        if (!c.TryGetLong(5, out var timeout) || !c.TryGetLong(4, out var db))
        {
            return;
        }
        if (db is < int.MinValue or > int.MaxValue)
        {
            c.Error("ERR value is out of range");
            return;
        }
        if (timeout <= 0)
        {
            timeout = 1000;
        }
        var keys = new List<byte[]>();
        for (var i = firstKey; i < firstKey + keyCount; i++)
        {
            if (c.Db.TryGet(c.Arg(i), out _, LookupFlags.NoTouch))
            {
                keys.Add(c.Arg(i).ToArray());
            }
        }
        if (keys.Count == 0)
        {
            c.Reply.WriteSimpleString("NOKEY"u8);
            return;
        }
        var target = Encoding.UTF8.GetString(c.Arg(1)) + ":" + Encoding.UTF8.GetString(c.Arg(2));
        // As Redis: a connection that turns out broken is replaced once, unless the target timed out.
        for (var attempt = 0; ; attempt++)
        {
            var writing = true;
            try
            {
                var cached = Connect(target, timeout);
                if (cached is null)
                {
                    c.Error("IOERR error or timeout connecting to the client");
                    return;
                }
                var select = cached.Db != db;
                var replies = Send(c, cached.Connection, keys, db, user, password, replace, select);
                writing = false;
                Receive(c, cached, keys, db, replies, select, copy);
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
            {
                Close(target);
                var timedOut = e is IOException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut } }
                    || e is SocketException { SocketErrorCode: SocketError.TimedOut };
                if (attempt > 0 || timedOut)
                {
                    c.Error($"IOERR error or timeout {(writing ? "writing" : "reading")} to target instance");
                    return;
                }
            }
        }
    }

    /// <summary>Sends AUTH and SELECT when needed, then a RESTORE per key, in one pipeline; returns how many replies precede the RESTOREs'.</summary>
    private static int Send(CommandContext c, RedisConnection connection, List<byte[]> keys, long db, string? user, string? password, bool replace, bool select)
    {
        var replies = 0;
        if (password is not null)
        {
            connection.Queue(user is null ? ["AUTH"u8.ToArray(), Encoding.UTF8.GetBytes(password)] : ["AUTH"u8.ToArray(), Encoding.UTF8.GetBytes(user), Encoding.UTF8.GetBytes(password)]);
            replies++;
        }
        if (select)
        {
            connection.Queue("SELECT"u8.ToArray(), CommandContext.Number(db));
            replies++;
        }
        var restore = c.Server.Cluster is null ? "RESTORE"u8.ToArray() : "RESTORE-ASKING"u8.ToArray();
        var config = c.Server.Config;
        var now = c.Keyspace.Now;
        foreach (var key in keys)
        {
            c.Db.TryGet(key, out var entry, LookupFlags.NoTouch);
            var ttl = entry.Expire == 0 ? 0 : Math.Max(1, entry.Expire - now);
            var item = entry.Item;
            var payload = DumpPayload.Create(config.RdbCompression.Value, w => RdbValues.Write(w, item, config));
            if (replace)
            {
                connection.Queue(restore, key, CommandContext.Number(ttl), payload, "REPLACE"u8.ToArray());
            }
            else
            {
                connection.Queue(restore, key, CommandContext.Number(ttl), payload);
            }
        }
        connection.Flush();
        return replies;
    }

    /// <summary>
    /// Reads the replies: as Redis, an AUTH or SELECT error fails every key, a RESTORE error only its own; the
    /// keys restored are deleted here (unless COPY) and propagate as one DEL; the first error is the reply.
    /// </summary>
    private static void Receive(CommandContext c, CachedConnection cached, List<byte[]> keys, long db, int replies, bool select, bool copy)
    {
        var connection = cached.Connection;
        string? error = null;
        for (var i = 0; i < replies; i++)
        {
            var reply = connection.Read();
            error ??= reply.IsError ? reply.Text : null;
        }
        var failedAll = error is not null;
        var moved = new List<byte[]>();
        foreach (var key in keys)
        {
            var reply = connection.Read();
            if (failedAll || reply.IsError)
            {
                error ??= reply.Text;
            }
            else if (!copy && c.Db.Delete(key))
            {
                c.Modified(key, KeyspaceEvents.Generic, "del"u8);
                moved.Add(key);
            }
        }
        cached.LastUseMs = Environment.TickCount64;
        // After an error the target's database is unknown, as Redis assumes.
        cached.Db = error is not null ? -1 : select ? db : cached.Db;
        if (moved.Count > 0)
        {
            c.PropagateAs([Persistence.Propagation.DeleteCommand(lazy: false), .. moved]);
        }
        else
        {
            c.PropagateNothing();
        }
        if (error is not null)
        {
            c.Error("ERR Target instance replied with error: " + error);
            return;
        }
        c.Reply.WriteLiteral(Replies.Ok);
    }

    /// <summary>
    /// The cached connection to <paramref name="target"/>, or a new one; null when connecting timed out. A refused
    /// connection throws: Redis finds that out only when it writes, and answers so.
    /// </summary>
    private CachedConnection? Connect(string target, long timeoutMs)
    {
        var now = Environment.TickCount64;
        foreach (var (name, idle) in _connections.Where(e => now - e.Value.LastUseMs > IdleCloseMs).ToList())
        {
            idle.Connection.Dispose();
            _connections.Remove(name);
        }
        if (_connections.TryGetValue(target, out var cached))
        {
            return cached;
        }
        try
        {
            var (host, port) = RedisConnection.ParseEndpoint(target);
            cached = new CachedConnection(RedisConnection.Connect(host, port, TimeSpan.FromMilliseconds(timeoutMs)));
            _connections[target] = cached;
            return cached;
        }
        catch (AggregateException e) when (e.InnerException is SocketException refused)
        {
            throw refused;
        }
        catch (Exception e) when (e is TimeoutException or FormatException or AggregateException)
        {
            return null;
        }
    }

    private void Close(string target)
    {
        if (_connections.Remove(target, out var cached))
        {
            cached.Connection.Dispose();
        }
    }
}
