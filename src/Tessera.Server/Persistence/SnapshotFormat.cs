using Tessera.Server.Config;
using Tessera.Server.Persistence.Rdb;
using Tessera.Server.Storage;

namespace Tessera.Server.Persistence;

/// <summary>
/// How a background save lays out a <see cref="KeyspaceSnapshot"/> in a file: what goes before and after the
/// keys and before each database (written by the saving thread), and how one slot's keys are serialized
/// (under the execution lock, possibly early, on behalf of a write).
/// </summary>
internal interface ISnapshotFormat
{
    SlotSerializer Slot { get; }

    void Begin(Stream file);

    void BeginDatabase(Stream file, int index, long keys, long volatileKeys);

    /// <summary>Serialized slots, as <see cref="Slot"/> produced them.</summary>
    void Write(Stream file, ReadOnlySpan<byte> slots);

    void End(Stream file);
}

/// <summary>An RDB file (BGSAVE, and an AOF base with <c>aof-use-rdb-preamble</c>).</summary>
internal sealed class RdbSnapshotFormat(ServerConfig config, IReadOnlyList<byte[]> libraries, long usedMemory, bool aofBase, RdbReplicationInfo? replication = null) : ISnapshotFormat
{
    private RdbWriter? _file;

    public SlotSerializer Slot => (table, output) => RdbFile.WriteTable(new RdbWriter(output, config.RdbCompression.Value, checksum: false), table, config);

    public void Begin(Stream file)
    {
        _file = new RdbWriter(file, config.RdbCompression.Value);
        RdbFile.WriteHeader(_file, libraries, usedMemory, aofBase, replication);
    }

    public void BeginDatabase(Stream file, int index, long keys, long volatileKeys) => RdbFile.WriteDatabaseHeader(_file!, index, keys, volatileKeys);

    public void Write(Stream file, ReadOnlySpan<byte> slots) => _file!.Write(slots);

    public void End(Stream file) => RdbFile.WriteFooter(_file!, file, config);
}
