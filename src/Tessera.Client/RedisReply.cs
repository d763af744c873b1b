using System.Globalization;
using System.Text;

namespace Tessera.Client;

/// <summary>What kind of RESP reply a <see cref="RedisReply"/> is.</summary>
public enum ReplyKind
{
    Status,
    Error,
    Integer,
    Bulk,
    Array,
    Null,
}

/// <summary>
/// One reply from a server, RESP2 as servers send it to a client that did not ask for RESP3: a status or error
/// line, an integer, a bulk string, an array of replies, or null.
/// </summary>
public sealed class RedisReply
{
    public static readonly RedisReply Nil = new(ReplyKind.Null, null, 0, []);

    private RedisReply(ReplyKind kind, byte[]? bytes, long integer, IReadOnlyList<RedisReply> items)
    {
        Kind = kind;
        Bytes = bytes;
        Integer = integer;
        Items = items;
    }

    public ReplyKind Kind { get; }

    /// <summary>The bytes of a status, error or bulk reply.</summary>
    public byte[]? Bytes { get; }

    public long Integer { get; }

    public IReadOnlyList<RedisReply> Items { get; }

    public bool IsError => Kind == ReplyKind.Error;

    /// <summary>A status, error or bulk reply as text (UTF-8), an integer in decimal, otherwise null.</summary>
    public string? Text => Kind == ReplyKind.Integer ? Integer.ToString(CultureInfo.InvariantCulture) : Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    public static RedisReply Line(ReplyKind kind, byte[] text) => new(kind, text, 0, []);

    public static RedisReply FromInteger(long value) => new(ReplyKind.Integer, null, value, []);

    public static RedisReply FromArray(IReadOnlyList<RedisReply> items) => new(ReplyKind.Array, null, 0, items);

    public override string ToString() => Kind switch
    {
        ReplyKind.Array => "[" + string.Join(", ", Items) + "]",
        ReplyKind.Null => "(nil)",
        ReplyKind.Error => "(error) " + Text,
        _ => Text ?? "",
    };
}
