namespace Tessera.Server.Commands;

/// <summary>Reply literals and error texts shared by command families, byte-for-byte as Redis sends them.</summary>
internal static class Replies
{
    public static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;

    public static ReadOnlySpan<byte> Pong => "+PONG\r\n"u8;

    public static ReadOnlySpan<byte> Zero => ":0\r\n"u8;

    public static ReadOnlySpan<byte> One => ":1\r\n"u8;

    public static ReadOnlySpan<byte> MinusOne => ":-1\r\n"u8;

    public static ReadOnlySpan<byte> MinusTwo => ":-2\r\n"u8;

    public static ReadOnlySpan<byte> EmptyArray => "*0\r\n"u8;

    public static ReadOnlySpan<byte> WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value"u8;

    public static ReadOnlySpan<byte> SyntaxError => "ERR syntax error"u8;

    public static ReadOnlySpan<byte> NotInteger => "ERR value is not an integer or out of range"u8;

    public static ReadOnlySpan<byte> NotFloat => "ERR value is not a valid float"u8;

    public static ReadOnlySpan<byte> NoSuchKey => "ERR no such key"u8;

    public static ReadOnlySpan<byte> DbIndexOutOfRange => "ERR DB index is out of range"u8;

    public static ReadOnlySpan<byte> NoAuth => "NOAUTH Authentication required."u8;

    public static ReadOnlySpan<byte> Oom => "OOM command not allowed when used memory > 'maxmemory'."u8;

    public static ReadOnlySpan<byte> Overflow => "ERR increment or decrement would overflow"u8;

    public static ReadOnlySpan<byte> StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)"u8;

    public static ReadOnlySpan<byte> BitOffsetInvalid => "ERR bit offset is not an integer or out of range"u8;

    public static ReadOnlySpan<byte> TimeoutInvalid => "ERR timeout is not an integer or out of range"u8;

    /// <summary>Redis's text for an invalid TTL, naming the command.</summary>
    public static string InvalidExpireTime(string command) => $"ERR invalid expire time in '{command}' command";
}
