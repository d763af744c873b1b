using System.Buffers.Binary;
using Tessera.Core.Hashing;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>
/// The envelope of DUMP and FUNCTION DUMP payloads: RDB-encoded data, then the RDB version (2 bytes, little
/// endian) and the CRC-64 of all that (8 bytes, little endian), as Redis's createDumpPayload writes it.
/// </summary>
internal static class DumpPayload
{
    private const int FooterLength = 10;

    /// <summary>Appends the version and checksum to the data written into <paramref name="buffer"/>.</summary>
    public static byte[] Seal(MemoryStream buffer)
    {
        Span<byte> footer = stackalloc byte[FooterLength];
        BinaryPrimitives.WriteUInt16LittleEndian(footer, RdbFormat.Version);
        buffer.Write(footer[..2]);
        var crc = Crc64.Compute(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[2..], crc);
        buffer.Write(footer[2..]);
        return buffer.ToArray();
    }

    /// <summary>
    /// Redis's verifyDumpPayload: true when the footer names an RDB version this server reads and the checksum
    /// matches; <paramref name="data"/> is then the payload without its footer.
    /// </summary>
    public static bool TryOpen(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> data)
    {
        data = default;
        if (payload.Length < FooterLength)
        {
            return false;
        }
        var footer = payload[^FooterLength..];
        if (BinaryPrimitives.ReadUInt16LittleEndian(footer) > RdbFormat.Version
            || BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]) != Crc64.Compute(payload[..^8]))
        {
            return false;
        }
        data = payload[..^FooterLength];
        return true;
    }
}
