using Tessera.Core.Commands;

namespace Tessera.Server.Sessions;

/// <summary>
/// CLIENT PAUSE / UNPAUSE: while paused, commands from clients (all of them, or only those that may write) wait
/// in their connection, unprocessed, until the pause ends or times out; then they run in arrival order. A
/// coordinated failover (FAILOVER) holds writes for a purpose of its own, which CLIENT UNPAUSE does not end, as
/// in Redis. Used under the execution lock.
/// </summary>
internal sealed class ClientPause
{
    private readonly List<ClientSession> _postponed = [];

    /// <summary>True while CLIENT PAUSE is in effect.</summary>
    private bool _byClient;

    /// <summary>True while a FAILOVER holds writes.</summary>
    private bool _forFailover;

    /// <summary>True while a pause holds all commands; false for a WRITE pause or none.</summary>
    public bool All { get; private set; }

    /// <summary>True while any pause is in effect.</summary>
    public bool Active => _byClient || _forFailover;

    /// <summary>Environment.TickCount64 when the CLIENT PAUSE ends.</summary>
    public long EndMs { get; private set; }

    /// <summary>Pauses until <paramref name="endMs"/>; a longer or stronger pause wins over a running one, as in Redis.</summary>
    public void Pause(bool all, long endMs)
    {
        if (_byClient)
        {
            endMs = Math.Max(endMs, EndMs);
            all |= All;
        }
        _byClient = true;
        All = all;
        EndMs = endMs;
    }

    /// <summary>CLIENT UNPAUSE (or its time up): ends the client's pause; postponed clients run unless a failover holds writes.</summary>
    public void Unpause()
    {
        _byClient = false;
        All = false;
        ResumeIfFree();
    }

    /// <summary>FAILOVER: holds writes until <see cref="EndFailoverPause"/>.</summary>
    public void PauseWritesForFailover() => _forFailover = true;

    public void EndFailoverPause()
    {
        _forFailover = false;
        ResumeIfFree();
    }

    /// <summary>Lets postponed clients run once no pause is left; one still held by the remaining pause waits again.</summary>
    private void ResumeIfFree()
    {
        if (_byClient && All)
        {
            return;
        }
        foreach (var session in _postponed)
        {
            session.Resume();
        }
        _postponed.Clear();
    }

    /// <summary>Ends the client's pause if its time is up (called by the cron and before deciding).</summary>
    public void CheckTimeout()
    {
        if (_byClient && Environment.TickCount64 >= EndMs)
        {
            Unpause();
        }
    }

    /// <summary>True when a command with these flags must wait for the pause to end.</summary>
    public bool ShouldPostpone(CommandFlags flags)
    {
        if (!Active)
        {
            return false;
        }
        CheckTimeout();
        return Active && (All || (flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0);
    }

    public void Postpone(ClientSession session) => _postponed.Add(session);

    /// <summary>Clients holding a command until the pause ends: Redis counts them as blocked (BLOCKED_POSTPONE).</summary>
    public int PostponedCount => _postponed.Count;

    /// <summary>Drops a closed client.</summary>
    public void Forget(ClientSession session) => _postponed.Remove(session);
}
