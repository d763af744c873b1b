using System.Runtime.CompilerServices;
using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Pubsub;
using Tessera.Server.Storage;

namespace Tessera.Server.Sessions;

/// <summary>
/// What a command handler sees: its arguments (slices of the request), the reply writer, the client's session
/// and database, and the server. One per session, reused for every command, so dispatch allocates nothing.
/// </summary>
internal sealed class CommandContext(ClientSession session, TesseraServer server) : ICommandContext
{
    public ClientSession Session { get; } = session;

    public TesseraServer Server { get; } = server;

    public Request Args { get; set; } = null!;

    public ServerCommand Command { get; set; } = null!;

    /// <summary>Where replies go: the session's output, or a scratch writer when a blocked command is retried.</summary>
    public RespWriter Reply { get; init; } = session.Output;

    public Database Db => Session.Db;

    /// <summary>Where a push goes (a subscription confirmation): see <see cref="ClientSession.PushWriter"/>.</summary>
    public RespWriter PushWriter => Reply == Session.Output ? Session.PushWriter : Reply;

    public Keyspace Keyspace => Server.Keyspace;

    /// <summary>True once the handler replied with an error (for failed_calls).</summary>
    public bool Failed { get; set; }

    public int ArgCount => Args.Count;

    /// <summary>
    /// For replies that repeat elements as often as the client asks (SRANDMEMBER -N ...): true once the reply
    /// reached <see cref="ClientSession.RepeatedReplyCeiling"/>. The handler stops there and the client is
    /// disconnected after the command, as Redis's loops stop for a client over its output limit.
    /// </summary>
    public bool ReplyLimitReached()
    {
        if (Reply.Length < Session.RepeatedReplyCeiling)
        {
            return false;
        }
        Session.ReplyOverflowed = true;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Arg(int index) => Args[index];

    /// <summary>Replies with an error text that starts with its code ("ERR ...").</summary>
    public void Error(ReadOnlySpan<byte> message)
    {
        Failed = true;
        var space = message.IndexOf((byte)' ');
        Server.Stats.CountError(System.Text.Encoding.ASCII.GetString(space < 0 ? message : message[..space]));
        Reply.WriteError(message);
    }

    /// <summary>Replies with an error built at run time.</summary>
    public void Error(string message)
    {
        Failed = true;
        var space = message.IndexOf(' ');
        Server.Stats.CountError(space < 0 ? message : message[..space]);
        Reply.WriteError(message);
    }

    /// <summary>
    /// Replies with an error already counted in the error statistics when it happened (a script's failed
    /// redis.call, as Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE); the command still counts as failed.
    /// </summary>
    public void ErrorCountedBefore(string message)
    {
        Failed = true;
        Reply.WriteError(message);
    }

    public void SyntaxError() => Error(Replies.SyntaxError);

    public void Ok() => Reply.WriteLiteral(Replies.Ok);

    public Cluster.IClusterClient Client => Session;

    public void WrongType() => Error(Replies.WrongType);

    public void NotInteger() => Error(Replies.NotInteger);

    /// <summary>Argument <paramref name="index"/> as an integer; on failure replies "value is not an integer".</summary>
    public bool TryGetLong(int index, out long value)
    {
        if (RedisInteger.TryParse(Args[index], out value))
        {
            return true;
        }
        NotInteger();
        return false;
    }

    /// <summary>Copies of <paramref name="count"/> arguments from <paramref name="first"/> (keys a blocked client waits on).</summary>
    public byte[][] CopyArgs(int first, int count)
    {
        var copies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            copies[i] = Args.ToArray(first + i);
        }
        return copies;
    }

    /// <summary>True when argument <paramref name="index"/> equals <paramref name="word"/> ignoring ASCII case.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ArgIs(int index, ReadOnlySpan<byte> word) => System.Text.Ascii.EqualsIgnoreCase(Args[index], word);

    /// <summary>The command's full name for error texts ("config|get").</summary>
    public string CommandName => Command.Info.FullName;

    /// <summary>
    /// Looks up <paramref name="key"/> expecting a <typeparamref name="T"/>: true with the value, or with null when
    /// the key is missing; false, after replying WRONGTYPE, when it holds another type.
    /// </summary>
    public bool TryGet<T>(ReadOnlySpan<byte> key, out T? value, out KeyRef entry, LookupFlags flags = LookupFlags.Read)
        where T : StoredValue
    {
        value = null;
        if (!Db.TryGet(key, out entry, flags))
        {
            return true;
        }
        if (entry.Item is T typed)
        {
            value = typed;
            return true;
        }
        WrongType();
        return false;
    }

    /// <summary>Like <see cref="TryGet{T}(ReadOnlySpan{byte}, out T, out KeyRef, LookupFlags)"/> without the entry.</summary>
    public bool TryGet<T>(ReadOnlySpan<byte> key, out T? value, LookupFlags flags = LookupFlags.Read)
        where T : StoredValue
        => TryGet(key, out value, out _, flags);

    /// <summary>
    /// The pop commands' search (BLPOP, LMPOP, BZPOPMIN, ZMPOP ...): the first of the keys at arguments
    /// [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) holding a
    /// <typeparamref name="T"/>, looked up for writing, and its argument index; on a retry only the key that
    /// became ready. Null value when none does; false after replying WRONGTYPE.
    /// </summary>
    public bool TryGetFirst<T>(int first, int count, out int keyIndex, out T? value)
        where T : StoredValue
    {
        value = null;
        for (keyIndex = first; keyIndex < first + count; keyIndex++)
        {
            if (SkipsKey(Arg(keyIndex)))
            {
                continue;
            }
            if (!TryGet(Arg(keyIndex), out value, LookupFlags.Write) || value is not null)
            {
                return value is not null;
            }
        }
        return true;
    }

    /// <summary>
    /// The <typeparamref name="T"/> at <paramref name="key"/> for writing, created (and added) by
    /// <paramref name="create"/> when missing; false after replying WRONGTYPE.
    /// </summary>
    public bool TryGetOrCreate<T>(ReadOnlySpan<byte> key, Func<T> create, out T value)
        where T : StoredValue
    {
        if (!TryGet(key, out T? found, out _, LookupFlags.Write))
        {
            value = null!;
            return false;
        }
        if (found is null)
        {
            found = create();
            Db.Add(key, found);
        }
        value = found;
        return true;
    }

    /// <summary>
    /// After a collection changed: accounts its new size, deletes the key if it became empty, and reports the
    /// change as <see cref="Modified"/> does, followed by a "del" event when the key went away.
    /// </summary>
    public void Changed(ReadOnlySpan<byte> key, StoredValue value, long bytesBefore, KeyspaceEvents type, ReadOnlySpan<byte> eventName, long changes = 1)
    {
        Db.AdjustMemory(value.MemoryBytes - bytesBefore);
        var removed = value.IsEmpty && Db.Delete(key);
        Modified(key, type, eventName, changes);
        if (removed)
        {
            Notify(KeyspaceEvents.Generic, "del"u8, key);
        }
    }

    /// <summary>
    /// A write changed <paramref name="key"/> (Redis's signalModifiedKey, notifyKeyspaceEvent and server.dirty
    /// together): its watchers' transactions fail, the event is published, the change is counted.
    /// </summary>
    public void Modified(ReadOnlySpan<byte> key, KeyspaceEvents type, ReadOnlySpan<byte> eventName, long changes = 1)
    {
        SignalModified(key);
        Notify(type, eventName, key);
        Server.Changes.Dirty += changes;
    }

    /// <summary>A write changed <paramref name="key"/> without a keyspace event (PFCOUNT caching its estimate).</summary>
    public void SignalModified(ReadOnlySpan<byte> key)
    {
        Server.Watches.Touch(Db.Index, key);
        Server.Tracking.Invalidate(Session, key);
    }

    /// <summary>Publishes a keyspace event on <paramref name="key"/> of the client's database.</summary>
    public void Notify(KeyspaceEvents type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key)
        => Server.Notifications.Notify(type, eventName, key, Db.Index);

    /// <summary>True while a blocked command runs again because one of its keys became ready.</summary>
    public bool Retrying { get; init; }

    /// <summary>On a retry, the key that became ready: the only one the command may be served from, as in Redis.</summary>
    public byte[]? ReadyKey { get; set; }

    /// <summary>True when a retried blocked command must pass over <paramref name="key"/> (another key became ready).</summary>
    public bool SkipsKey(ReadOnlySpan<byte> key) => Retrying && !key.SequenceEqual(ReadyKey);

    /// <summary>True inside EXEC: commands may not block (Redis's CLIENT_DENY_BLOCKING).</summary>
    public bool DenyBlocking { get; init; }

    /// <summary>The command runs from a script (redis.call): its reply must not depend on hash-table order.</summary>
    public bool FromScript { get; init; }

    /// <summary>Set by <see cref="Block"/>: the keys and deadline the command waits for.</summary>
    public BlockRequest? BlockRequest { get; private set; }

    /// <summary>
    /// Makes the client wait, as BLPOP on empty keys: once a command pushes to one of <paramref name="keys"/> (a
    /// <typeparamref name="T"/>) the command runs again; at <paramref name="deadlineMs"/> (0: never) it times out.
    /// The handler must not have replied. A retry that still finds nothing just stays blocked.
    /// </summary>
    public void Block<T>(byte[][] keys, long deadlineMs, bool nullBulkWhenDenied = false)
        where T : StoredValue
    {
        if (DenyBlocking)
        {
            // Inside EXEC (or a script) a blocking command on empty keys answers at once, as if timed out.
            if (nullBulkWhenDenied)
            {
                Reply.WriteNullBulk();
            }
            else
            {
                Reply.WriteNullArray();
            }
        }
        else if (!Retrying)
        {
            BlockRequest = new BlockRequest(keys, typeof(T), deadlineMs);
        }
    }

    /// <summary>Clears <see cref="BlockRequest"/> after the session took it.</summary>
    public void ClearBlockRequest() => BlockRequest = null;

    /// <summary>
    /// True once the command chose what it propagates (<see cref="PropagateAs"/>, or nothing of its own, as EXEC
    /// and scripts, whose commands propagate themselves); otherwise a command that changed data propagates as sent.
    /// </summary>
    public bool Propagated { get; set; }

    /// <summary>True when writes are propagated (the AOF is on): rewrites are built only then.</summary>
    public bool Propagating => Server.Propagation.Active;

    /// <summary>
    /// Propagates <paramref name="args"/> instead of the command as sent (SPOP as SREM, EXPIRE as PEXPIREAT);
    /// a command may call it more than once. Callers check <see cref="Propagating"/> before building arguments.
    /// </summary>
    public void PropagateAs(params ReadOnlySpan<byte[]> args)
    {
        Propagated = true;
        if (Server.Propagation.Active)
        {
            Server.Propagation.Command(Db.Index, args);
        }
    }

    /// <summary>A number as a propagated argument.</summary>
    public static byte[] Number(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>DEL, or UNLINK under <c>lazyfree-lazy-expire</c>: how a key deleted for its TTL propagates.</summary>
    public byte[] ExpiredKeyDelete => Persistence.Propagation.DeleteCommand(Server.Config.LazyfreeLazyExpire.Value);

    /// <summary>The command propagates nothing itself (EXEC, EVAL, FCALL: the commands they run do).</summary>
    public void PropagateNothing() => Propagated = true;

    /// <summary>Counts a change to the dataset (INFO's rdb_changes_since_last_save).</summary>
    public void Dirty(long changes = 1) => Server.Changes.Dirty += changes;
}
