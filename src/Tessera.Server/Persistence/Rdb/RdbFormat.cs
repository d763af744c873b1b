namespace Tessera.Server.Persistence.Rdb;

/// <summary>Constants of Redis's RDB format (rdb.h) as Redis 7.0 writes it: version 10.</summary>
internal static class RdbFormat
{
    public const int Version = 10;

    // Length prefixes: the two top bits of the first byte.
    public const byte Len6Bit = 0;
    public const byte Len14Bit = 1;
    public const byte Len32Bit = 0x80;
    public const byte Len64Bit = 0x81;
    public const byte Encoded = 3;

    // Special string encodings, after an Encoded prefix.
    public const int EncodingInt8 = 0;
    public const int EncodingInt16 = 1;
    public const int EncodingInt32 = 2;
    public const int EncodingLzf = 3;

    // Opcodes.
    public const byte OpFunction2 = 245;
    public const byte OpFunctionPreGa = 246;
    public const byte OpModuleAux = 247;
    public const byte OpIdle = 248;
    public const byte OpFreq = 249;
    public const byte OpAux = 250;
    public const byte OpResizeDb = 251;
    public const byte OpExpireTimeMs = 252;
    public const byte OpExpireTime = 253;
    public const byte OpSelectDb = 254;
    public const byte OpEof = 255;
}

/// <summary>A payload or file that does not follow the RDB format.</summary>
internal sealed class RdbFormatException(string message) : Exception(message);
