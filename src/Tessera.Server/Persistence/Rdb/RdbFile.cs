using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server.Config;
using Tessera.Server.Storage;

namespace Tessera.Server.Persistence.Rdb;

/// <summary>What loading a snapshot found; <see cref="Replication"/> when it recorded a replication position.</summary>
internal readonly record struct RdbLoadResult(long KeysLoaded, long KeysExpired, string? RedisVersion, RdbReplicationInfo? Replication = null);

/// <summary>
/// The replication position a snapshot was taken at (aux fields repl-id, repl-offset, repl-stream-db, as Redis's
/// rdbSaveInfo): a restarted replica continues from it with a partial resynchronization, and a restarted master
/// lets its replicas do so.
/// </summary>
internal readonly record struct RdbReplicationInfo(string Id, long Offset, int StreamDb);

/// <summary>
/// A whole RDB file as Redis 7.0 writes it (rdbSaveRio / rdbLoadRio): "REDIS0010", aux fields, function
/// libraries, each non-empty database (SELECTDB, RESIZEDB, then its keys with their expiry), EOF and the CRC-64.
/// </summary>
/// <summary>How a snapshot is loaded: over keys already there (DEBUG RELOAD MERGE), without its checksum checked (DEBUG).</summary>
internal readonly record struct RdbLoadOptions(bool ReplaceKeys, bool SkipChecksum);

internal static class RdbFile
{
    private static ReadOnlySpan<byte> Magic => "REDIS"u8;

    /// <summary>Writes the dataset and <paramref name="libraries"/> (FUNCTION code) to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, Keyspace keyspace, IEnumerable<byte[]> libraries, ServerConfig config, long usedMemory, RdbReplicationInfo? replication = null)
    {
        var w = new RdbWriter(stream, config.RdbCompression.Value);
        WriteHeader(w, libraries, usedMemory, aofBase: false, replication);
        foreach (var db in keyspace.Databases)
        {
            if (db.Count == 0)
            {
                continue;
            }
            WriteDatabaseHeader(w, db.Index, db.Count, db.VolatileCount);
            for (var slot = 0; slot < HashSlot.Count; slot++)
            {
                if (db.TableOf(slot) is { } table)
                {
                    WriteTable(w, table, config);
                }
            }
        }
        WriteFooter(w, stream, config);
    }

    /// <summary>
    /// True when the stream (at its start) holds an RDB snapshot, as an AOF base or preamble may; the position is
    /// left at the start either way.
    /// </summary>
    public static bool StartsWithSnapshot(Stream stream)
    {
        Span<byte> magic = stackalloc byte[5];
        var found = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length && magic.SequenceEqual(Magic);
        stream.Position = 0;
        return found;
    }

    /// <summary>
    /// Reads a snapshot into a keyspace of its own, only to check it (check-rdb, check-aof); returns what it
    /// found and the keyspace. Throws <see cref="RdbFormatException"/> like <see cref="Read"/>.
    /// </summary>
    public static (RdbLoadResult Result, Keyspace Keyspace) ReadScratch(Stream stream, Action<byte[]> addLibrary)
    {
        var config = new ServerConfig();
        var keyspace = new Keyspace(config);
        keyspace.UpdateClock();
        return (Read(stream, keyspace, config, addLibrary), keyspace);
    }

    /// <summary>The magic, the aux fields and the function libraries.</summary>
    public static void WriteHeader(RdbWriter w, IEnumerable<byte[]> libraries, long usedMemory, bool aofBase, RdbReplicationInfo? replication)
    {
        w.Write(Encoding.ASCII.GetBytes($"REDIS{RdbFormat.Version:D4}"));
        WriteAux(w, "redis-ver", ServerOptions.RedisVersion);
        WriteAux(w, "redis-bits", "64");
        WriteAux(w, "ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        WriteAux(w, "used-mem", usedMemory.ToString(CultureInfo.InvariantCulture));
        if (replication is { } position)
        {
            WriteAux(w, "repl-stream-db", position.StreamDb.ToString(CultureInfo.InvariantCulture));
            WriteAux(w, "repl-id", position.Id);
            WriteAux(w, "repl-offset", position.Offset.ToString(CultureInfo.InvariantCulture));
        }
        WriteAux(w, "aof-base", aofBase ? "1" : "0");
        WriteLibraries(w, libraries);
    }

    /// <summary>SELECTDB and RESIZEDB before a database's keys.</summary>
    public static void WriteDatabaseHeader(RdbWriter w, int index, long keys, long volatileKeys)
    {
        w.WriteByte(RdbFormat.OpSelectDb);
        w.WriteLength((ulong)index);
        w.WriteByte(RdbFormat.OpResizeDb);
        w.WriteLength((ulong)keys);
        w.WriteLength((ulong)volatileKeys);
    }

    /// <summary>The keys of one slot table, each after its expiry time if it has one.</summary>
    public static void WriteTable(RdbWriter w, KeyTable table, ServerConfig config)
    {
        Span<byte> expire = stackalloc byte[8];
        for (var i = 0; i < table.Capacity; i++)
        {
            if (table[i].Item is not { } item)
            {
                continue;
            }
            var unixMs = table.ExpireAt(i);
            if (unixMs != 0)
            {
                w.WriteByte(RdbFormat.OpExpireTimeMs);
                BinaryPrimitives.WriteInt64LittleEndian(expire, unixMs);
                w.Write(expire);
            }
            RdbValues.WriteEntry(w, KeyTable.KeyOf(item), item, config);
        }
    }

    /// <summary>EOF and the CRC-64 of everything before it (0 without <c>rdbchecksum</c>).</summary>
    public static void WriteFooter(RdbWriter w, Stream stream, ServerConfig config)
    {
        w.WriteByte(RdbFormat.OpEof);
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, config.RdbChecksum.Value ? w.Checksum : 0);
        stream.Write(checksum);
    }

    /// <summary>Function libraries as RDB records (rdbSaveFunctions), for snapshots and FUNCTION DUMP alike.</summary>
    public static void WriteLibraries(RdbWriter w, IEnumerable<byte[]> libraries)
    {
        foreach (var code in libraries)
        {
            w.WriteByte(RdbFormat.OpFunction2);
            w.WriteString(code);
        }
    }

    private static void WriteAux(RdbWriter w, string name, string value)
    {
        w.WriteByte(RdbFormat.OpAux);
        w.WriteString(Encoding.ASCII.GetBytes(name));
        w.WriteString(Encoding.ASCII.GetBytes(value));
    }

    /// <summary>
    /// Loads a snapshot into <paramref name="keyspace"/>; keys already expired are left out, as a master does. A
    /// key the keyspace holds already is an error, or replaced with <see cref="RdbLoadOptions.ReplaceKeys"/> (DEBUG
    /// RELOAD MERGE). Function libraries go to <paramref name="addLibrary"/>. Throws <see cref="RdbFormatException"/>
    /// for anything malformed, a bad checksum included (unless DEBUG said to skip it). <paramref name="progress"/>
    /// hears the stream's position every thousand keys or so.
    /// </summary>
    public static RdbLoadResult Read(Stream stream, Keyspace keyspace, ServerConfig config, Action<byte[]> addLibrary, Action<long>? progress = null,
        RdbLoadOptions options = default)
    {
        var r = new RdbReader(stream);
        try
        {
            return ReadAll(r, stream, keyspace, config, addLibrary, progress, options);
        }
        finally
        {
            // The stream then stands just after the snapshot (an AOF's commands may follow it).
            r.GiveBack();
        }
    }

    private static RdbLoadResult ReadAll(RdbReader r, Stream stream, Keyspace keyspace, ServerConfig config, Action<byte[]> addLibrary, Action<long>? progress,
        RdbLoadOptions options)
    {
        // sanitize-dump-payload yes checks files deeply too; "clients" leaves loading alone, as Redis does.
        var sanitize = config.SanitizeDumpPayload.Value == "yes" ? new PayloadSanitizer() : null;
        var delay = new DebugDelay();
        Span<byte> header = stackalloc byte[9];
        r.Read(header);
        if (!header[..5].SequenceEqual(Magic) || !int.TryParse(header[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version < 1 || version > RdbFormat.Version)
        {
            throw new RdbFormatException(header[..5].SequenceEqual(Magic) ? "Can't handle RDB format version " + Encoding.ASCII.GetString(header[5..]) : "Wrong signature trying to load DB from file");
        }
        var db = keyspace.Databases[0];
        long expire = 0;
        long loaded = 0;
        long expired = 0;
        string? redisVersion = null;
        string? replicationId = null;
        long replicationOffset = -1;
        var streamDb = 0;
        Span<byte> buffer = stackalloc byte[8];
        var keyBuffer = new byte[256];
        var valueBuffer = new byte[256];
        while (true)
        {
            var type = r.ReadByte();
            switch (type)
            {
                case RdbFormat.OpExpireTime:
                    r.Read(buffer[..4]);
                    expire = BinaryPrimitives.ReadInt32LittleEndian(buffer) * 1000L;
                    continue;
                case RdbFormat.OpExpireTimeMs:
                    r.Read(buffer);
                    expire = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                    continue;
                case RdbFormat.OpIdle:
                    r.ReadLength();
                    continue;
                case RdbFormat.OpFreq:
                    r.ReadByte();
                    continue;
                case RdbFormat.OpSelectDb:
                    var index = r.ReadLength();
                    db = index < (ulong)keyspace.Databases.Length ? keyspace.Databases[index] : throw new RdbFormatException($"FATAL: Data file was created with a Redis server configured to handle more than {keyspace.Databases.Length} databases. Exiting");
                    continue;
                case RdbFormat.OpResizeDb:
                    db.Reserve((long)r.ReadLength());
                    r.ReadLength();
                    continue;
                case RdbFormat.OpAux:
                    var name = Encoding.ASCII.GetString(r.ReadString());
                    var value = r.ReadString();
                    switch (name)
                    {
                        case "redis-ver":
                            redisVersion = Encoding.ASCII.GetString(value);
                            break;
                        case "repl-id":
                            replicationId = Encoding.ASCII.GetString(value);
                            break;
                        case "repl-offset":
                            replicationOffset = RedisInteger.TryParse(value, out var offset) ? offset : -1;
                            break;
                        case "repl-stream-db":
                            streamDb = RedisInteger.TryParse(value, out var number) && number >= 0 && number < keyspace.Databases.Length ? (int)number : 0;
                            break;
                    }
                    continue;
                case RdbFormat.OpFunction2:
                    addLibrary(r.ReadString());
                    continue;
                case RdbFormat.OpFunctionPreGa:
                    throw new RdbFormatException("Pre-release function format not supported.");
                case RdbFormat.OpModuleAux:
                    throw new RdbFormatException("The RDB file contains AUX module data this server cannot load.");
                case RdbFormat.OpEof:
                    VerifyChecksum(r, version, config.RdbChecksum.Value && !options.SkipChecksum);
                    var replication = replicationId is { Length: 40 } && replicationOffset >= 0 ? new RdbReplicationInfo(replicationId, replicationOffset, streamDb) : (RdbReplicationInfo?)null;
                    return new RdbLoadResult(loaded, expired, redisVersion, replication);
            }
            if (!RdbValues.IsValueType(type))
            {
                throw new RdbFormatException($"Unknown RDB encoding type {type}");
            }
            var key = r.ReadString(ref keyBuffer);
            if (db.Exists(key))
            {
                if (!options.ReplaceKeys)
                {
                    throw new RdbFormatException($"Duplicate key '{Encoding.Latin1.GetString(key)}' found in RDB file");
                }
                db.Delete(key);
            }
            // Strings, most keys of most datasets, go from the read buffers into the table without a copy of their own.
            var text = type == RdbValues.TypeString ? r.ReadString(ref valueBuffer) : default;
            var item = type == RdbValues.TypeString ? null : (StoredValue)RdbValues.Read(r, type, key, config, sanitize);
            delay.Add(config.KeyLoadDelay.Value);
            if (expire != 0 && expire < keyspace.Now && !keyspace.IsReplica)
            {
                expired++;
            }
            else
            {
                var added = item is null ? db.AddString(key, text, StringValue.EncodingFor(text)) : db.Add(key, item);
                if (expire != 0)
                {
                    db.SetExpire(added, expire);
                }
                loaded++;
            }
            expire = 0;
            if (progress is not null && ((loaded + expired) & 1023) == 0)
            {
                progress(stream.Position);
            }
        }
    }

    /// <summary>Files from version 5 end with a CRC-64 of everything before it (0 when written without one).</summary>
    private static void VerifyChecksum(RdbReader r, int version, bool check)
    {
        if (version < 5)
        {
            return;
        }
        var computed = r.Checksum;
        Span<byte> stored = stackalloc byte[8];
        r.Read(stored);
        var expected = BinaryPrimitives.ReadUInt64LittleEndian(stored);
        if (check && expected != 0 && expected != computed)
        {
            throw new RdbFormatException("Wrong RDB checksum. Aborting now.");
        }
    }
}
