using System.Runtime.CompilerServices;
using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Storage;

namespace Tessera.Server.Sessions;

/// <summary>
/// What a command handler sees: its arguments (slices of the request), the reply writer, the client's session
/// and database, and the server. One per session, reused for every command, so dispatch allocates nothing.
/// </summary>
internal sealed class CommandContext(ClientSession session, TesseraServer server)
{
    public ClientSession Session { get; } = session;

    public TesseraServer Server { get; } = server;

    public Request Args { get; set; } = null!;

    public ServerCommand Command { get; set; } = null!;

    public RespWriter Reply => Session.Output;

    public Database Db => Session.Db;

    public Keyspace Keyspace => Server.Keyspace;

    /// <summary>True once the handler replied with an error (for failed_calls).</summary>
    public bool Failed { get; set; }

    public int ArgCount => Args.Count;

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

    public void SyntaxError() => Error(Replies.SyntaxError);

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

    /// <summary>After a collection changed: accounts its new size and deletes the key if it became empty.</summary>
    public void Changed(ReadOnlySpan<byte> key, StoredValue value, long bytesBefore)
    {
        Db.AdjustMemory(value.MemoryBytes - bytesBefore);
        if (value.IsEmpty)
        {
            Db.Delete(key);
        }
    }

    /// <summary>Counts a change to the dataset (INFO's rdb_changes_since_last_save).</summary>
    public void Dirty(long changes = 1) => Server.Dirty += changes;
}
