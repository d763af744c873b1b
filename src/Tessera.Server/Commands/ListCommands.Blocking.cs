using Tessera.Server.Sessions;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Commands;

/// <summary>Blocking list commands: with every source empty the client waits for a push (Redis's blocking.c).</summary>
internal static partial class ListCommands
{
    private static void RegisterBlocking(CommandRegistry r)
    {
        r.Add("blpop", c => BlockingPop(c, head: true));
        r.Add("brpop", c => BlockingPop(c, head: false));
        r.Add("blmove", c =>
        {
            if (TryParseEnd(c, 3, out var fromHead) && TryParseEnd(c, 4, out var toHead))
            {
                BlockingMove(c, fromHead, toHead, timeoutIndex: 5);
            }
        });
        r.Add("brpoplpush", c => BlockingMove(c, fromHead: false, toHead: true, timeoutIndex: 3));
        r.Add("blmpop", c =>
        {
            if (BlockingTimeout.TryParse(c, 1, out var deadline))
            {
                MultiPop(c, 2, deadline);
            }
        });
    }

    /// <summary>BLPOP/BRPOP key... timeout: [key, element] from the first non-empty list, or wait.</summary>
    private static void BlockingPop(CommandContext c, bool head)
    {
        var keys = c.ArgCount - 2;
        if (!BlockingTimeout.TryParse(c, c.ArgCount - 1, out var deadline))
        {
            return;
        }
        if (!c.TryGetFirst(1, keys, out var index, out ListValue? list))
        {
            return;
        }
        if (list is not null)
        {
            c.Reply.WriteArrayHeader(2);
            c.Reply.WriteBulk(c.Arg(index));
            PopElements(c, c.Arg(index), list, head, 1, asArray: false);
            return;
        }
        c.Block<ListValue>(c.CopyArgs(1, keys), deadline);
    }

    /// <summary>BLMOVE/BRPOPLPUSH: LMOVE once the source has elements.</summary>
    private static void BlockingMove(CommandContext c, bool fromHead, bool toHead, int timeoutIndex)
    {
        if (!BlockingTimeout.TryParse(c, timeoutIndex, out var deadline)
            || !c.TryGet(c.Arg(1), out ListValue? source, LookupFlags.Write))
        {
            return;
        }
        if (source is null)
        {
            c.Block<ListValue>(c.CopyArgs(1, 1), deadline, nullBulkWhenDenied: true);
            return;
        }
        MoveFrom(c, source, fromHead, toHead);
    }
}
