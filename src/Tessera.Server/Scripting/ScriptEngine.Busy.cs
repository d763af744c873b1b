using KeraLua;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Scripting;

/// <summary>
/// A script that runs past <c>busy-reply-threshold</c> (Redis's timed-out script): from then on the node is busy.
/// Every 100,000 instructions the count hook (<see cref="Killed"/>) notes it, stops the script when SCRIPT KILL,
/// FUNCTION KILL or SHUTDOWN NOSAVE asked, and lets the script's own I/O loop serve its other clients meanwhile
/// (as Redis's processEventsWhileBlocked), so a kill can reach it from any connection. Clients of every loop get
/// -BUSY, except for the commands Redis allows while busy; those that need the dataset or the watch table wait
/// here until the script ends.
/// </summary>
internal sealed partial class ScriptEngine
{
    /// <summary>SCRIPT KILL's answer when no script is running.</summary>
    public const string NotBusy = "NOTBUSY No scripts in execution right now.";

    /// <summary>How long FUNCTION LOAD may run a library's code before it is stopped, as in Redis.</summary>
    private const long LoadTimeoutMs = 500;

    private readonly Lock _busyLock = new();
    private readonly List<ClientSession> _waitingForIdle = [];
    private long _startedMs;
    private long _loadStartedMs = -1;
    private volatile bool _timedOut;
    private volatile bool _killRequested;
    private volatile byte[][]? _busyCommand;

    /// <summary>
    /// True while a script runs past busy-reply-threshold: other clients then get -BUSY instead of waiting for the
    /// execution lock, and may SCRIPT KILL it. Read from other threads.
    /// </summary>
    public bool TimedOut => _timedOut;

    /// <summary>
    /// SCRIPT KILL (from another client's thread, without the execution lock): null when the script will stop,
    /// else Redis's refusal. <paramref name="force"/> (SHUTDOWN NOSAVE) stops even a script that wrote.
    /// </summary>
    public string? Kill(bool force = false, bool function = false)
    {
        if (!_timedOut && !force)
        {
            return NotBusy;
        }
        if (_wrote && !force)
        {
            return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
        }
        if (!force && function != (_runningFunction is not null))
        {
            // SCRIPT KILL stops only EVAL scripts, FUNCTION KILL only functions.
            return BusyError;
        }
        _killRequested = true;
        return null;
    }

    /// <summary>What a command gets while a slow script holds the node; it names the way to stop that kind of script.</summary>
    public string BusyError => _runningFunction is null
        ? "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        : "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

    /// <summary>
    /// FUNCTION STATS' running_script while a slow function runs: its name, the command that called it and how long
    /// it has run; null when none is (an EVAL script does not count).
    /// </summary>
    public (string Name, byte[][] Command, long DurationMs)? RunningFunction
        => _timedOut && _runningFunction is { } name && _busyCommand is { } command ? (name, command, Environment.TickCount64 - _startedMs) : null;

    /// <summary>
    /// A command allowed while busy that needs the dataset or the watch table (WATCH, RESET ...): the session waits
    /// (paused) until the script ends, then runs it. False when the script ended meanwhile: run it now.
    /// </summary>
    public bool WaitUntilIdle(ClientSession session)
    {
        lock (_busyLock)
        {
            if (!_timedOut)
            {
                return false;
            }
            session.Flags |= ClientFlags.Paused;
            _waitingForIdle.Add(session);
            return true;
        }
    }

    private void BeginRun()
    {
        _killRequested = false;
        _startedMs = Environment.TickCount64;
    }

    /// <summary>After a script: the node is no longer busy, and the clients that waited for that run.</summary>
    private void EndRun(string name)
    {
        _busyCommand = null;
        if (!_timedOut)
        {
            return;
        }
        _logger.SlowScriptEnded(name);
        lock (_busyLock)
        {
            _timedOut = false;
            foreach (var session in _waitingForIdle)
            {
                session.Resume();
            }
            _waitingForIdle.Clear();
        }
    }

    /// <summary>Runs a library's code at FUNCTION LOAD, which the count hook stops after <see cref="LoadTimeoutMs"/>.</summary>
    private LuaStatus RunLibraryCode(int arguments, int results, int errorHandler)
    {
        _killRequested = false;
        _loadStartedMs = Environment.TickCount64;
        try
        {
            return _lua.PCall(arguments, results, errorHandler);
        }
        finally
        {
            _loadStartedMs = -1;
        }
    }

    /// <summary>
    /// The count hook's question, every 100,000 instructions: why the script must stop now (SCRIPT KILL, a
    /// library taking too long to load), or nil. Notes a script gone slow, and while the node is busy serves the
    /// other clients of this thread's loop. Never lets an exception reach Lua's C frames.
    /// </summary>
    private int Killed(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        try
        {
            if (_loadStartedMs >= 0)
            {
                if (Environment.TickCount64 - _loadStartedMs > LoadTimeoutMs)
                {
                    lua.PushString("ERR FUNCTION LOAD timeout");
                    return 1;
                }
                lua.PushNil();
                return 1;
            }
            if (!_timedOut && _caller is { } caller && Environment.TickCount64 - _startedMs > _config.BusyReplyThreshold.Value)
            {
                _logger.SlowScript(_config.BusyReplyThreshold.Value);
                var args = caller.Args;
                _busyCommand = [.. Enumerable.Range(0, args.Count).Select(args.ToArray)];
                _timedOut = true;
            }
            if (_timedOut && !_killRequested)
            {
                Networking.EventLoop.ServeWhileBusy();
            }
        }
        catch (Exception e)
        {
            _logger.BackgroundJobFailed(e, "script watchdog");
        }
        if (_killRequested)
        {
            // Redis says SCRIPT KILL for functions too.
            lua.PushString("ERR Script killed by user with SCRIPT KILL...");
        }
        else
        {
            lua.PushNil();
        }
        return 1;
    }
}
