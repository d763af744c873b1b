using Tessera.Core.Commands;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server.Cluster;

namespace Tessera.Cluster;

/// <summary>
/// The routing step of the command pipeline (Redis's getNodeByQuery) and the slots being moved: a slot this node
/// migrates (SETSLOT MIGRATING) is still served here for the keys it has, the others get -ASK to the target; a slot
/// it imports (SETSLOT IMPORTING) is served to clients that said ASKING; a multi-key command over such a slot with
/// only some of its keys here gets -TRYAGAIN.
/// </summary>
internal sealed partial class ClusterNode
{
    private readonly ClusterPeer?[] _migrating = new ClusterPeer?[HashSlot.Count];
    private readonly ClusterPeer?[] _importing = new ClusterPeer?[HashSlot.Count];

    /// <summary>The node this one migrates <paramref name="slot"/> to, or null.</summary>
    public ClusterPeer? MigratingTo(int slot) => _migrating[slot];

    /// <summary>The node this one imports <paramref name="slot"/> from, or null.</summary>
    public ClusterPeer? ImportingFrom(int slot) => _importing[slot];

    public void SetMigrating(int slot, ClusterPeer? target) => _migrating[slot] = target;

    public void SetImporting(int slot, ClusterPeer? source) => _importing[slot] = source;

    /// <summary>
    /// CLUSTER SETSLOT slot NODE: the slot is <paramref name="owner"/>'s. A migration ends here; the importing node
    /// takes a new config epoch so its claim wins everywhere, and a master left without slots follows the new owner.
    /// </summary>
    public void AssignSlot(int slot, ClusterPeer owner)
    {
        if (host.Keys.CountInSlot(slot) == 0)
        {
            _migrating[slot] = null;
        }
        var wasMine = _slots[slot] == Myself;
        _slots[slot] = owner;
        if (wasMine && owner != Myself && !ServesSlots(Myself) && host.Settings.AllowReplicaMigration)
        {
            Follow(owner);
        }
        if (owner == Myself && _importing[slot] is not null)
        {
            _importing[slot] = null;
            BumpEpochWithoutConsensus();
            _bus?.Broadcast(Message(Bus.BusMessageType.Pong), _ => true);
        }
        Changed();
    }

    /// <summary>Deletes the keys of a slot this node no longer serves (Redis's dirty slots).</summary>
    private void DropKeysOf(int slot)
    {
        host.Keys.DeleteSlot(slot);
    }

    public string? Redirect(IClusterClient client, CommandInfo command, Request args, bool inExec)
    {
        // As Redis's resetClient: ASKING holds for the next command only (a transaction's queued ones through EXEC).
        var asking = client.ClusterAsking;
        if (!client.InTransaction || inExec)
        {
            client.ClusterAsking = false;
        }
        // Every key of the command (of every queued command, for EXEC) in one slot.
        var query = new Query { Slot = -1 };
        if (inExec)
        {
            for (var i = 0; i < client.QueuedCount; i++)
            {
                var queued = client.Queued(i, _scratch);
                if (Examine(queued, _scratch, ref query) is { } error)
                {
                    return error;
                }
                query.Writes |= (queued.Flags & CommandFlags.Write) != 0;
            }
        }
        else
        {
            if (Examine(command, args, ref query) is { } error)
            {
                return error;
            }
            query.Writes = (command.Flags & CommandFlags.Write) != 0;
        }
        if (query.Slot < 0)
        {
            return null;
        }
        var slot = query.Slot;
        var owner = _slots[slot]!;
        if (!StateOk)
        {
            if (!host.Settings.AllowReadsWhenDown)
            {
                return "CLUSTERDOWN The cluster is down";
            }
            if (query.Writes)
            {
                return "CLUSTERDOWN The cluster is down and only accepts read commands";
            }
        }
        var migrating = owner == Myself && _migrating[slot] is not null;
        var importing = _importing[slot] is not null;
        if ((migrating || importing) && command.Name == "migrate")
        {
            return null;
        }
        if (migrating && query.Missing > 0)
        {
            var target = _migrating[slot]!;
            return query.Existing > 0 ? "TRYAGAIN Multiple keys request during rehashing of slot" : $"ASK {slot} {target.Ip}:{target.Port}";
        }
        if (importing && (asking || (command.Flags & CommandFlags.Asking) != 0))
        {
            return query.Keys > 1 && query.Missing > 0 ? "TRYAGAIN Multiple keys request during rehashing of slot" : null;
        }
        if (owner == Myself)
        {
            return null;
        }
        // A replica serves reads of its master's slots to clients that asked with READONLY.
        if (client.ClusterReadOnly && owner.Id == Myself.MasterId && !query.Writes)
        {
            return null;
        }
        return $"MOVED {slot} {owner.Ip}:{owner.Port}";
    }

    /// <summary>What the routing step found about a command's keys so far.</summary>
    private struct Query
    {
        /// <summary>The slot of the first key, or -1.</summary>
        public int Slot;
        public int Keys;
        public int Existing;
        public int Missing;
        public bool Writes;
    }

    /// <summary>
    /// Checks one command's keys against the slot found so far: in Redis's order, the first key's slot must be
    /// served, and every other key must hash to it. In a slot being moved, counts which keys this node has.
    /// </summary>
    private string? Examine(CommandInfo info, Request args, ref Query query)
    {
        if (info.SingleKeyPosition > 0 && info.SingleKeyPosition < args.Count)
        {
            return Claim(args[info.SingleKeyPosition], ref query);
        }
        if (!info.HasKeys)
        {
            return null;
        }
        _keyPositions.Clear();
        KeyExtractor.GetKeys(info, args, 0, _keyPositions);
        foreach (var position in _keyPositions)
        {
            if (Claim(args[position], ref query) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    private string? Claim(ReadOnlySpan<byte> key, ref Query query)
    {
        var keySlot = HashSlot.Of(key);
        if (query.Slot < 0)
        {
            query.Slot = keySlot;
            if (_slots[keySlot] is null)
            {
                return "CLUSTERDOWN Hash slot not served";
            }
        }
        else if (keySlot != query.Slot)
        {
            return "CROSSSLOT Keys in request don't hash to the same slot";
        }
        query.Keys++;
        if ((_migrating[keySlot] is not null && _slots[keySlot] == Myself) || _importing[keySlot] is not null)
        {
            if (host.Keys.Holds(key))
            {
                query.Existing++;
            }
            else
            {
                query.Missing++;
            }
        }
        return null;
    }
}
