using System.Globalization;
using System.Text;
using Tessera.Core.Hashing;
using Tessera.Core.IO;

namespace Tessera.Cluster;

/// <summary>
/// nodes.conf (<c>cluster-config-file</c>): one line per node as CLUSTER NODES prints it, then
/// "vars currentEpoch N lastVoteEpoch M". Written to a temporary file, flushed and renamed, so a crash leaves the
/// previous version; a restarted node reads its identity and view back from it.
/// </summary>
internal sealed class NodesFile(string path)
{
    /// <summary>
    /// The text CLUSTER NODES answers (and the file holds, before its vars line): LF line endings, as Redis; with
    /// <paramref name="include"/>, only the nodes it accepts.
    /// </summary>
    public static string Describe(ClusterNode node, Func<ClusterPeer, bool>? include = null)
    {
        var text = new StringBuilder();
        var ranges = node.Ranges();
        foreach (var peer in node.Peers.Values.Where(p => include?.Invoke(p) ?? true))
        {
            text.Append(peer.Id).Append(' ').Append(peer.Address).Append(' ').Append(peer.Flags).Append(' ')
                .Append(peer.MasterId ?? "-").Append(' ')
                .Append((peer.IsMyself ? 0 : peer.PingSentMs).ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append((peer.IsMyself ? 0 : peer.PongReceivedMs).ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(peer.ConfigEpoch.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(peer.Connected || peer.IsMyself ? "connected" : "disconnected");
            foreach (var (start, end) in ranges.GetValueOrDefault(peer) ?? [])
            {
                text.Append(' ').Append(start.ToString(CultureInfo.InvariantCulture));
                if (end != start)
                {
                    text.Append('-').Append(end.ToString(CultureInfo.InvariantCulture));
                }
            }
            if (peer.IsMyself)
            {
                // As Redis: this node's open slots, [slot->-target] migrating and [slot-<-source] importing.
                for (var slot = 0; slot < HashSlot.Count; slot++)
                {
                    if (node.MigratingTo(slot) is { } target)
                    {
                        text.Append(CultureInfo.InvariantCulture, $" [{slot}->-{target.Id}]");
                    }
                    if (node.ImportingFrom(slot) is { } source)
                    {
                        text.Append(CultureInfo.InvariantCulture, $" [{slot}-<-{source.Id}]");
                    }
                }
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Replaces the file; <paramref name="durable"/>: flushed to the disk, file and folder, before returning.</summary>
    public void Save(ClusterNode node, bool durable)
    {
        // As Redis: nodes still in their handshake are not written.
        var content = Describe(node, p => !p.Handshake) + $"vars currentEpoch {node.CurrentEpoch} lastVoteEpoch {node.LastVoteEpoch}\n";
        var temporary = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(Encoding.UTF8.GetBytes(content));
            file.Flush(flushToDisk: durable);
        }
        if (durable)
        {
            DurableRename.Replace(temporary, path);
        }
        else
        {
            File.Move(temporary, path, overwrite: true);
        }
    }

    /// <summary>Reads the file into <paramref name="node"/>; false when there is none. A damaged file stops start-up.</summary>
    public bool TryLoad(ClusterNode node)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        var lineNumber = 0;
        var openSlots = new List<string>();
        foreach (var line in File.ReadAllLines(path))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split(' ');
            if (fields[0] == "vars")
            {
                for (var i = 1; i + 1 < fields.Length; i += 2)
                {
                    var value = long.Parse(fields[i + 1], CultureInfo.InvariantCulture);
                    if (fields[i] == "currentEpoch")
                    {
                        node.CurrentEpoch = value;
                    }
                    else if (fields[i] == "lastVoteEpoch")
                    {
                        node.LastVoteEpoch = value;
                    }
                }
                continue;
            }
            if (fields.Length < 8 || fields[0].Length != 40)
            {
                throw new InvalidDataException($"Unrecoverable error: corrupted cluster config file \"{line}\" (line {lineNumber} of {path}).");
            }
            var flags = fields[2].Split(',');
            var peer = node.AddPeer(new ClusterPeer(fields[0])
            {
                IsMyself = flags.Contains("myself"),
                MasterId = fields[3] == "-" ? null : fields[3],
                ConfigEpoch = long.Parse(fields[6], CultureInfo.InvariantCulture),
                PFail = flags.Contains("fail?"),
                Fail = flags.Contains("fail"),
                FailTimeMs = ClusterNode.NowMs,
            });
            ParseAddress(peer, fields[1]);
            foreach (var range in fields.Skip(8))
            {
                if (range.StartsWith('['))
                {
                    openSlots.Add(range);
                    continue;
                }
                var (start, end) = HashSlot.ParseRange(range);
                for (var slot = start; slot <= end; slot++)
                {
                    node.SetOwner(slot, peer);
                }
            }
        }
        if (node.Peers.Values.All(p => !p.IsMyself))
        {
            throw new InvalidDataException($"Unrecoverable error: {path} does not name this node (myself).");
        }
        foreach (var open in openSlots)
        {
            LoadOpenSlot(node, open);
        }
        return true;
    }

    /// <summary>[slot->-id] (migrating to id) or [slot-&lt;-id] (importing from id), once every node is known.</summary>
    private void LoadOpenSlot(ClusterNode node, string open)
    {
        try
        {
            var (slot, migrating, id) = HashSlot.ParseOpenSlot(open);
            var peer = node.Peers.GetValueOrDefault(id) ?? throw new FormatException($"unknown node {id}");
            if (migrating)
            {
                node.SetMigrating(slot, peer);
            }
            else
            {
                node.SetImporting(slot, peer);
            }
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"Unrecoverable error: bad open slot {open} in {path}.", e);
        }
    }

    private static void ParseAddress(ClusterPeer peer, string address)
    {
        var comma = address.IndexOf(',');
        if (comma >= 0)
        {
            peer.Hostname = address[(comma + 1)..];
            address = address[..comma];
        }
        var at = address.IndexOf('@');
        var colon = address.LastIndexOf(':', at < 0 ? address.Length - 1 : at);
        peer.Ip = address[..colon];
        peer.Port = int.Parse(address.AsSpan(colon + 1, (at < 0 ? address.Length : at) - colon - 1), CultureInfo.InvariantCulture);
        peer.BusPort = at < 0 ? peer.Port + 10000 : int.Parse(address.AsSpan(at + 1), CultureInfo.InvariantCulture);
    }
}
