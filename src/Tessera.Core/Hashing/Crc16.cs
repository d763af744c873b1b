namespace Tessera.Core.Hashing;

/// <summary>CRC16-XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with.</summary>
public static class Crc16
{
    private static readonly ushort[] Table = BuildTable();

    /// <summary>CRC16-XMODEM of <paramref name="data"/>; "123456789" gives 0x31C3.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        var table = Table;
        foreach (var b in data)
        {
            crc = (ushort)((crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF]);
        }
        return crc;
    }

    /// <summary>
    /// The same checksum kept in 32 bits, as twemproxy's crc16 computes it: the shifted-out high bits are never
    /// masked, so the low 16 bits equal <see cref="Compute"/> and the rest is carried along (and moves keys).
    /// </summary>
    public static uint ComputeUnmasked(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        var table = Table;
        foreach (var b in data)
        {
            crc = (crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF];
        }
        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
            table[i] = crc;
        }
        return table;
    }
}
