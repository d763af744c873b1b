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

    /// <summary>
    /// A payload whose data <paramref name="writeData"/> writes; the version and the checksum the writer kept
    /// while writing are appended.
    /// </summary>
    public static byte[] Create(bool compress, Action<RdbWriter> writeData)
    {
        using var buffer = new MemoryStream();
        var writer = new RdbWriter(buffer, compress);
        writeData(writer);
        Span<byte> footer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(footer, RdbFormat.Version);
        writer.Write(footer[..2]);
        BinaryPrimitives.WriteUInt64LittleEndian(footer, writer.Checksum);
        buffer.Write(footer);
        return buffer.ToArray();
    }

    /// <summary>
    /// Redis's verifyDumpPayload: a reader over the payload's data when the footer names an RDB version this
    /// server reads and the checksum matches, else null.
    /// </summary>
    public static RdbReader? Open(ReadOnlySpan<byte> payload, bool skipChecksum = false)
    {
        if (payload.Length < FooterLength)
        {
            return null;
        }
        var footer = payload[^FooterLength..];
        if (BinaryPrimitives.ReadUInt16LittleEndian(footer) > RdbFormat.Version
            || (!skipChecksum && BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]) != Crc64.Compute(payload[..^8])))
        {
            return null;
        }
        return new RdbReader(new MemoryStream(payload[..^FooterLength].ToArray()));
    }
}
