using Tessera.Core.Commands;
using Tessera.Resp;
using Tessera.Server.Caching;

namespace Tessera.Server.Sessions;

/// <summary>CLIENT TRACKING: the client's mode, and which client this thread is running (Redis's current_client).</summary>
internal sealed partial class ClientSession
{
    private static readonly CommandInfo EvalRo = CommandTable.Redis.Find("eval_ro")!;
    private static readonly CommandInfo EvalShaRo = CommandTable.Redis.Find("evalsha_ro")!;
    private static readonly CommandInfo FcallRo = CommandTable.Redis.Find("fcall_ro")!;

    [ThreadStatic]
    private static ClientSession? _running;

    [ThreadStatic]
    private static RespWriter? _runningReply;

    /// <summary>CLIENT TRACKING state; null until the client first turns tracking on.</summary>
    public ClientTracking? Tracking { get; set; }

    /// <summary>The client whose commands this thread is processing now, or null (Redis's server.current_client).</summary>
    public static ClientSession? RunningOnThisThread => _running;

    /// <summary>
    /// Where a write to <see cref="RunningOnThisThread"/> goes: straight into its pushes, before the reply of its
    /// command; for a blocked command served from another client's thread, into that command's reply buffer.
    /// </summary>
    public static RespWriter RunningWriter => _runningReply ?? _running!.PushWriter;

    /// <summary>Marks this client as the one this thread runs until the scope ends.</summary>
    private RunningScope Running(RespWriter? reply = null)
    {
        var scope = new RunningScope(_running, _runningReply);
        _running = this;
        _runningReply = reply;
        return scope;
    }

    /// <summary>
    /// After a read-only command (Redis's call()): a tracking client in the default mode has its keys remembered;
    /// a command from a script stands for the script's declared keys. The read-only script commands themselves
    /// are not remembered, only what they run.
    /// </summary>
    private void RememberTrackedKeys(CommandContext context)
    {
        var info = context.Command.Info;
        if ((info.Flags & CommandFlags.ReadOnly) == 0 || info == EvalRo || info == EvalShaRo || info == FcallRo)
        {
            return;
        }
        // A script's command stands for the command that runs the script (its declared keys).
        var source = context == _scriptContext ? _server.ScriptsIfStarted?.Caller : context;
        if (source is not null)
        {
            _server.Tracking.Remember(this, source.Command.Info, source.Args);
        }
    }

    /// <summary>As Redis's resetClient: CLIENT CACHING holds for the next command only, or the whole transaction.</summary>
    private void EndCachingChoice()
    {
        if (Tracking is null || (Flags & ClientFlags.Multi) != 0)
        {
            return;
        }
        var last = LastCommand?.Info;
        if (last is null || (last.Parent ?? last).Name != "client")
        {
            Tracking.Flags &= ~TrackingFlags.Caching;
        }
    }

    private readonly struct RunningScope(ClientSession? previous, RespWriter? previousReply) : IDisposable
    {
        public void Dispose()
        {
            _running = previous;
            _runningReply = previousReply;
        }
    }
}
