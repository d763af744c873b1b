using Tessera.Core.Commands;

namespace Tessera.Server.Sessions;

/// <summary>
/// CLIENT PAUSE / UNPAUSE: while paused, commands from clients (all of them, or only those that may write) wait
/// in their connection, unprocessed, until the pause ends or times out; then they run in arrival order.
/// Used under the execution lock.
/// </summary>
internal sealed class ClientPause
{
    private readonly List<ClientSession> _postponed = [];

    /// <summary>True while a pause holds all commands; false for a WRITE pause or none.</summary>
    public bool All { get; private set; }

    /// <summary>True while any pause is in effect.</summary>
    public bool Active { get; private set; }

    /// <summary>Environment.TickCount64 when the pause ends.</summary>
    public long EndMs { get; private set; }

    /// <summary>Pauses until <paramref name="endMs"/>; a longer or stronger pause wins over a running one, as in Redis.</summary>
    public void Pause(bool all, long endMs)
    {
        if (Active)
        {
            endMs = Math.Max(endMs, EndMs);
            all |= All;
        }
        Active = true;
        All = all;
        EndMs = endMs;
    }

    /// <summary>Ends the pause and lets postponed clients run.</summary>
    public void Unpause()
    {
        Active = false;
        All = false;
        foreach (var session in _postponed)
        {
            session.Resume();
        }
        _postponed.Clear();
    }

    /// <summary>Ends the pause if its time is up (called by the cron and before deciding).</summary>
    public void CheckTimeout()
    {
        if (Active && Environment.TickCount64 >= EndMs)
        {
            Unpause();
        }
    }

    /// <summary>True when <paramref name="command"/> must wait for the pause to end.</summary>
    public bool ShouldPostpone(CommandInfo command)
    {
        if (!Active)
        {
            return false;
        }
        CheckTimeout();
        return Active && (All || (command.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0);
    }

    public void Postpone(ClientSession session) => _postponed.Add(session);

    /// <summary>Drops a closed client.</summary>
    public void Forget(ClientSession session) => _postponed.Remove(session);
}
