using System.Buffers.Binary;
using Tessera.Core.Hashing;

namespace Tessera.Cluster.Bus;

internal enum BusMessageType : byte
{
    Meet = 1,
    Ping = 2,
    Pong = 3,

    /// <summary>The node <see cref="BusMessage.SubjectId"/> failed, by agreement of a majority of masters.</summary>
    Fail = 4,

    /// <summary>A replica asks the masters for their vote to replace its master (in epoch CurrentEpoch).</summary>
    AuthRequest = 5,

    /// <summary>A master's vote for the replica it is sent to.</summary>
    AuthAck = 6,

    /// <summary>CLUSTER FAILOVER: a replica asks its master to hold writes so it can catch up and take over.</summary>
    ManualFailoverStart = 7,

    /// <summary>PUBLISH of <see cref="BusMessage.Channel"/> to every node.</summary>
    Publish = 8,

    /// <summary>SPUBLISH of <see cref="BusMessage.Channel"/> to the nodes of the sender's shard.</summary>
    PublishShard = 9,
}

/// <summary>Sender flags carried by every message.</summary>
[Flags]
internal enum BusMessageFlags : byte
{
    None = 0,

    /// <summary>A master holding writes for a manual failover: its ReplicationOffset is final.</summary>
    Paused = 1,

    /// <summary>An AuthRequest of a manual failover: masters vote though the master has not failed.</summary>
    ForceAck = 2,
}

/// <summary>What the sender believes about a node it gossips about.</summary>
[Flags]
internal enum GossipFlags : byte
{
    None = 0,
    PFail = 1,
    Fail = 2,
}

/// <summary>A node another node gossips about: enough to start a handshake with it, and whether it seems down.</summary>
internal readonly record struct GossipEntry(string Id, string Ip, int Port, int BusPort, GossipFlags Flags);

/// <summary>
/// One cluster bus message (Redis Cluster's semantics, Tessera's own bytes): whatever its type, the sender's identity,
/// address, role, epochs, replication offset and the slots it claims (a replica sends its master's slots and config
/// epoch, as Redis), plus gossip about other nodes; some types carry a subject node or a published message. A frame is the magic "TSB1", the body's length
/// (4 bytes, big-endian) and the body; anything malformed is refused (<see cref="InvalidDataException"/>).
/// </summary>
internal sealed class BusMessage
{
    public const int MaxBodyBytes = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "TSB1"u8;

    public BusMessageType Type { get; init; }

    public string SenderId { get; init; } = "";

    /// <summary>The sender's announced address, or empty: the receiver then uses the address it sees.</summary>
    public string SenderIp { get; init; } = "";

    public int Port { get; init; }

    public int BusPort { get; init; }

    /// <summary>The sender's master when it is a replica, else empty.</summary>
    public string MasterId { get; init; } = "";

    public long ConfigEpoch { get; init; }

    public long CurrentEpoch { get; init; }

    public BusMessageFlags Flags { get; init; }

    /// <summary>The sender's replication offset (a master's stream, a replica's applied position).</summary>
    public long ReplicationOffset { get; init; }

    /// <summary>The node a Fail message is about; empty otherwise.</summary>
    public string SubjectId { get; init; } = "";

    /// <summary>The channel and message of Publish and PublishShard; empty otherwise.</summary>
    public byte[] Channel { get; init; } = [];

    public byte[] Payload { get; init; } = [];

    /// <summary>The slots the sender serves, one bit each.</summary>
    public byte[] Slots { get; init; } = new byte[HashSlot.Count / 8];

    public List<GossipEntry> Gossip { get; init; } = [];

    /// <summary>True when the sender claims <paramref name="slot"/> (its bit in <see cref="Slots"/> is set).</summary>
    public bool ClaimsSlot(int slot) => (Slots[slot / 8] & (1 << (slot % 8))) != 0;

    public byte[] Encode()
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write((byte)Type);
            w.Write(SenderId);
            w.Write(SenderIp);
            w.Write((ushort)Port);
            w.Write((ushort)BusPort);
            w.Write(MasterId);
            w.Write(ConfigEpoch);
            w.Write(CurrentEpoch);
            w.Write((byte)Flags);
            w.Write(ReplicationOffset);
            w.Write(SubjectId);
            w.Write(Channel.Length);
            w.Write(Channel);
            w.Write(Payload.Length);
            w.Write(Payload);
            w.Write(Slots);
            w.Write((ushort)Gossip.Count);
            foreach (var entry in Gossip)
            {
                w.Write(entry.Id);
                w.Write(entry.Ip);
                w.Write((ushort)entry.Port);
                w.Write((ushort)entry.BusPort);
                w.Write((byte)entry.Flags);
            }
        }
        var frame = new byte[8 + body.Length];
        Magic.CopyTo(frame);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), (int)body.Length);
        body.GetBuffer().AsSpan(0, (int)body.Length).CopyTo(frame.AsSpan(8));
        return frame;
    }

    /// <summary>Reads one frame from <paramref name="stream"/>; null at a clean end of the stream.</summary>
    public static BusMessage? Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[8];
        var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }
        if (read < header.Length || !header[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a cluster bus frame");
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (length is <= 0 or > MaxBodyBytes)
        {
            throw new InvalidDataException($"cluster bus frame of {length} bytes");
        }
        var body = new byte[length];
        stream.ReadExactly(body);
        try
        {
            using var r = new BinaryReader(new MemoryStream(body), System.Text.Encoding.UTF8);
            var type = (BusMessageType)r.ReadByte();
            if (type is < BusMessageType.Meet or > BusMessageType.PublishShard)
            {
                throw new InvalidDataException($"unknown cluster bus message type {(int)type}");
            }
            var message = new BusMessage
            {
                Type = type,
                SenderId = NodeId(r.ReadString()),
                SenderIp = r.ReadString(),
                Port = r.ReadUInt16(),
                BusPort = r.ReadUInt16(),
                MasterId = r.ReadString(),
                ConfigEpoch = r.ReadInt64(),
                CurrentEpoch = r.ReadInt64(),
                Flags = (BusMessageFlags)r.ReadByte(),
                ReplicationOffset = r.ReadInt64(),
                SubjectId = r.ReadString() is { Length: > 0 } subject ? NodeId(subject) : "",
                Channel = Bytes(r),
                Payload = Bytes(r),
                Slots = r.ReadBytes(HashSlot.Count / 8),
            };
            for (var count = r.ReadUInt16(); count > 0; count--)
            {
                message.Gossip.Add(new GossipEntry(NodeId(r.ReadString()), r.ReadString(), r.ReadUInt16(), r.ReadUInt16(), (GossipFlags)r.ReadByte()));
            }
            return message.Slots.Length == HashSlot.Count / 8 ? message : throw new InvalidDataException("truncated slot bitmap");
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("truncated cluster bus message", e);
        }
    }

    /// <summary>A length-prefixed byte string; a length past the message is refused.</summary>
    private static byte[] Bytes(BinaryReader r)
    {
        var length = r.ReadInt32();
        return length >= 0 && length <= r.BaseStream.Length - r.BaseStream.Position ? r.ReadBytes(length) : throw new InvalidDataException("bad length in a cluster bus message");
    }

    private static string NodeId(string id)
        => id.Length == 40 && id.All(char.IsAsciiHexDigitLower) ? id : throw new InvalidDataException("bad node id in a cluster bus message");
}
