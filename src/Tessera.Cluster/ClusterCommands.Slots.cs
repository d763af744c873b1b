using System.Text;
using Tessera.Core.Hashing;
using Tessera.Resp;
using Tessera.Server.Commands;

namespace Tessera.Cluster;

// The slot commands: ADDSLOTS/DELSLOTS and their ranges, FLUSHSLOTS, SETSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT.
internal static partial class ClusterCommands
{
    private static void CountKeysInSlot(ICommandContext c, ClusterNode node)
    {
        if (!c.TryGetLong(2, out var slot))
        {
            return;
        }
        if (slot is < 0 or >= HashSlot.Count)
        {
            c.Error("ERR Invalid slot");
            return;
        }
        c.Reply.WriteInteger(node.Host.Keys.CountInSlot((int)slot));
    }

    private static void GetKeysInSlot(ICommandContext c, ClusterNode node)
    {
        if (!c.TryGetLong(2, out var slot) || !c.TryGetLong(3, out var count))
        {
            return;
        }
        if (slot is < 0 or >= HashSlot.Count || count < 0)
        {
            c.Error("ERR Invalid slot or number of keys");
            return;
        }
        var keys = node.Host.Keys.KeysInSlot((int)slot, count);
        c.Reply.WriteArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            c.Reply.WriteBulk(key);
        }
    }

    /// <summary>ADDSLOTS / DELSLOTS slot... and their RANGE forms: all checked before any changes, as Redis.</summary>
    private static void ChangeSlots(ICommandContext c, ClusterNode node, bool add, bool ranges)
    {
        if (ranges && c.ArgCount % 2 == 1)
        {
            c.Error($"ERR wrong number of arguments for '{c.CommandName}' command");
            return;
        }
        var slots = new List<int>();
        for (var i = 2; i < c.ArgCount; i += ranges ? 2 : 1)
        {
            if (!TryGetSlot(c, i, out var start))
            {
                return;
            }
            var end = start;
            if (ranges)
            {
                if (!TryGetSlot(c, i + 1, out end))
                {
                    return;
                }
                if (start > end)
                {
                    c.Error($"ERR start slot number {start} is greater than end slot number {end}");
                    return;
                }
            }
            for (var slot = start; slot <= end; slot++)
            {
                slots.Add(slot);
            }
        }
        var seen = new bool[HashSlot.Count];
        foreach (var slot in slots)
        {
            if (add && node.OwnerOf(slot) is not null)
            {
                c.Error($"ERR Slot {slot} is already busy");
                return;
            }
            if (!add && node.OwnerOf(slot) is null)
            {
                c.Error($"ERR Slot {slot} is already unassigned");
                return;
            }
            if (seen[slot])
            {
                c.Error($"ERR Slot {slot} specified multiple times");
                return;
            }
            seen[slot] = true;
        }
        foreach (var slot in slots)
        {
            node.SetOwner(slot, add ? node.Myself : null);
        }
        node.Changed();
        c.Ok();
    }

    private static bool TryGetSlot(ICommandContext c, int index, out int slot)
    {
        if (RedisInteger.TryParse(c.Arg(index), out var value) && value is >= 0 and < HashSlot.Count)
        {
            slot = (int)value;
            return true;
        }
        c.Error("ERR Invalid or out of range slot");
        slot = -1;
        return false;
    }

    private static void FlushSlots(ICommandContext c, ClusterNode node)
    {
        if (node.Host.Keys.Count != 0)
        {
            c.Error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
            return;
        }
        node.ReleaseSlotsOf(node.Myself);
        node.Changed();
        c.Ok();
    }

    /// <summary>CLUSTER SETSLOT slot MIGRATING|IMPORTING|NODE node-id | STABLE, with Redis 7.0's checks and errors.</summary>
    private static void SetSlot(ICommandContext c, ClusterNode node)
    {
        if (node.Myself.MasterId is not null)
        {
            c.Error("ERR Please use SETSLOT only with masters.");
            return;
        }
        if (!TryGetSlot(c, 2, out var slot))
        {
            return;
        }
        var stable = c.ArgIs(3, "stable"u8);
        if (stable ? c.ArgCount != 4 : c.ArgCount != 5 || !(c.ArgIs(3, "migrating"u8) || c.ArgIs(3, "importing"u8) || c.ArgIs(3, "node"u8)))
        {
            c.Error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
            return;
        }
        if (stable)
        {
            node.SetMigrating(slot, null);
            node.SetImporting(slot, null);
            node.Changed();
            c.Ok();
            return;
        }
        var id = Encoding.ASCII.GetString(c.Arg(4));
        node.Peers.TryGetValue(id, out var target);
        var migrating = c.ArgIs(3, "migrating"u8);
        if (migrating || c.ArgIs(3, "importing"u8))
        {
            // MIGRATING needs this node to own the slot, IMPORTING that it does not; both a known master.
            var mine = node.OwnerOf(slot) == node.Myself;
            if (mine != migrating)
            {
                c.Error(migrating ? $"ERR I'm not the owner of hash slot {slot}" : $"ERR I'm already the owner of hash slot {slot}");
            }
            else if (target is null)
            {
                c.Error($"ERR I don't know about node {id}");
            }
            else if (target.MasterId is not null)
            {
                c.Error("ERR Target node is not a master");
            }
            else
            {
                if (migrating)
                {
                    node.SetMigrating(slot, target);
                }
                else
                {
                    node.SetImporting(slot, target);
                }
                node.Changed();
                c.Ok();
            }
            return;
        }
        if (target is null)
        {
            c.Error($"ERR Unknown node {id}");
        }
        else if (target.MasterId is not null)
        {
            c.Error("ERR Target node is not a master");
        }
        else if (node.OwnerOf(slot) == node.Myself && target != node.Myself && node.Host.Keys.CountInSlot(slot) != 0)
        {
            c.Error($"ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot.");
        }
        else
        {
            node.AssignSlot(slot, target);
            c.Ok();
        }
    }
}
