using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using KeraLua;
using Microsoft.Extensions.Logging;
using Tessera.Resp;
using Tessera.Server.Config;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Scripting;

/// <summary>
/// EVAL's engine (Redis's script_lua.c and eval.c): one Lua state for the node, scripts cached by SHA1 and run
/// in the sandbox the Lua files beside this one build (Lua/: the 5.1 library on Lua 5.4, Redis's bit, cjson,
/// struct and cmsgpack libraries, the environments). redis.call runs the command through the calling client's
/// session with a private reply buffer, and the reply is converted to Lua values by Redis's rules. Used under the
/// execution lock, so a script is atomic.
/// </summary>
internal sealed partial class ScriptEngine : IDisposable
{
    /// <summary>A script in the EVAL cache: its text and the flags its shebang declared.</summary>
    private sealed record CachedScript(byte[] Body, ScriptFlags Flags, string TailLine);

    private readonly ServerConfig _config;
    private readonly ILogger _logger;
    private readonly Persistence.Propagation _propagation;
    private readonly Persistence.ChangeCounter _changes;
    private readonly Lua _lua;
    private readonly LuaFunction _call;
    private readonly LuaFunction _sha1hex;
    private readonly LuaFunction _log;
    private readonly LuaFunction _killed;
    private readonly LuaFunction _setResp;
    private readonly LuaFunction _setRepl;
    private readonly LuaFunction _aclCheck;
    private readonly LuaAlloc _allocate;
    private readonly long _memoryLimit;
    private long _memory;
    private Persistence.PropagationTargets _replTargets = Persistence.PropagationTargets.All;
    private readonly Dictionary<string, CachedScript> _sources = [];
    private readonly RespWriter _scratch = new();
    private CommandContext? _caller;

    /// <summary>The command (EVAL, FCALL ...) whose script runs now, or null.</summary>
    public CommandContext? Caller => _caller;
    private bool _readOnly;
    private bool _allowOom;
    private bool _wrote;
    private string? _runningFunction;

    /// <summary>The Lua files the sandbox is built from, in load order; each gets the modules before it.</summary>
    private static readonly string[] LuaModules = ["lua51", "bit", "cjson", "struct", "cmsgpack", "sandbox"];

    /// <param name="config">The node's configuration (busy-reply-threshold).</param>
    /// <param name="logger">Where redis.log and the watchdog write.</param>
    /// <param name="propagation">Where scripts' writes go (redis.set_repl, effects replication).</param>
    /// <param name="changes">The node's change counter, which tells whether a script wrote.</param>
    /// <param name="memoryLimit">
    /// Scripts allocate as they like (string.rep, a table grown in a loop); Lua's memory is capped as a request's
    /// output is, so an allocation past it is Lua's "not enough memory" error instead of the node's end.
    /// </param>
    public ScriptEngine(ServerConfig config, ILogger logger, Persistence.Propagation propagation, Persistence.ChangeCounter changes, long memoryLimit)
    {
        _config = config;
        _logger = logger;
        _propagation = propagation;
        _changes = changes;
        _memoryLimit = memoryLimit;
        _allocate = Allocate;
        _lua = new Lua(_allocate, IntPtr.Zero) { Encoding = Encoding.Latin1 };
        _lua.OpenLibs();
        _call = Call;
        _sha1hex = Sha1Hex;
        _log = Log;
        _killed = Killed;
        _setResp = SetResp;
        _setRepl = SetRepl;
        _aclCheck = AclCheck;
        _lua.Register("__tessera_killed", _killed);
        _lua.Register("__tessera_setresp", _setResp);
        _lua.Register("__tessera_set_repl", _setRepl);
        _lua.Register("__tessera_acl_check", _aclCheck);
        _lua.Register("__tessera_call", _call);
        _lua.Register("__tessera_sha1hex", _sha1hex);
        _lua.Register("__tessera_log", _log);
        _lua.PushString(ServerOptions.RedisVersion);
        _lua.SetGlobal("__tessera_redis_version");
        // cjson.null: a light userdata, as in Redis.
        _lua.PushLightUserData(IntPtr.Zero);
        _lua.SetGlobal("__tessera_null");
        _lua.NewTable();
        foreach (var module in LuaModules)
        {
            using var stream = typeof(ScriptEngine).Assembly.GetManifestResourceStream("lua/" + module + ".lua")!;
            using var reader = new StreamReader(stream);
            var status = _lua.LoadString(reader.ReadToEnd(), "=tessera:" + module);
            if (status == LuaStatus.OK)
            {
                StripDebugInformation("=tessera:" + module);
                // The chunk's argument: the modules loaded so far.
                _lua.PushCopy(-2);
                status = _lua.PCall(1, 1, 0);
            }
            if (status != LuaStatus.OK)
            {
                throw new InvalidOperationException($"the script sandbox ({module}.lua) failed to load: " + _lua.ToString(-1, false));
            }
            _lua.SetField(-2, module);
        }
        _lua.Pop(1);
        _lua.NewTable();
        _lua.SetGlobal("__tessera_scripts");
        _lua.NewTable();
        _lua.SetGlobal("__tessera_functions");
        // The modules' text and compiled copies are garbage now.
        _lua.GarbageCollector(LuaGC.Collect, 0);
    }

    /// <summary>
    /// Replaces the chunk on top of the stack with a copy without line numbers and local names: the modules then
    /// hold a third of the memory. Their errors carry no position anyway (see lua51.lua's raise).
    /// </summary>
    private void StripDebugInformation(string name)
    {
        _lua.GetGlobal("string");
        _lua.GetField(-1, "dump");
        _lua.Remove(-2);
        _lua.PushCopy(-2);
        _lua.PushBoolean(true);
        if (_lua.PCall(2, 1, 0) != LuaStatus.OK)
        {
            throw new InvalidOperationException("the script sandbox could not be compiled: " + _lua.ToString(-1, false));
        }
        var code = _lua.ToBuffer(-1, false);
        _lua.Pop(2);
        if (_lua.LoadBuffer(code, name, "b") != LuaStatus.OK)
        {
            throw new InvalidOperationException("the script sandbox could not be loaded: " + _lua.ToString(-1, false));
        }
    }

    /// <summary>Scripts in the cache (INFO number_of_cached_scripts).</summary>
    public int Count => _sources.Count;

    /// <summary>Lowercase hex SHA1 of a script body, its name in the cache.</summary>
    public static string Sha1(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA1.HashData(body));

    public bool Exists(string sha) => _sources.ContainsKey(sha);

    /// <summary>The flags a cached script declared, or null when it is not cached.</summary>
    public ScriptFlags? FlagsOf(string sha) => _sources.TryGetValue(sha, out var script) ? script.Flags : null;

    /// <summary>Compiles and caches a script; null on success, else Redis's compile error text.</summary>
    public string? Load(string sha, byte[] body)
    {
        if (_sources.ContainsKey(sha))
        {
            return null;
        }
        if (ScriptFlagNames.FromShebang(body, out var flags, out var shebangLength) is { } shebangError)
        {
            return shebangError;
        }
        // The shebang line stays as an empty line, so errors name the lines the user wrote.
        var code = body;
        if (shebangLength > 0)
        {
            code = (byte[])body.Clone();
            Array.Fill(code, (byte)' ', 0, shebangLength);
        }
        if (_lua.LoadBuffer(code, "@user_script", "t") != LuaStatus.OK)
        {
            // Redis's Lua reads a precompiled chunk as text too, and stops at its first byte.
            var message = code.Length > 0 && code[0] == 0x1B ? "user_script:1: unexpected symbol near 'char(27)'" : _lua.ToString(-1, false);
            _lua.Pop(1);
            return "ERR Error compiling script (new function): " + message;
        }
        // The chunk's only upvalue is _ENV: the sandbox environment.
        _lua.GetGlobal("__tessera_env");
        _lua.SetUpValue(-2, 1);
        _lua.GetGlobal("__tessera_scripts");
        _lua.Insert(-2);
        _lua.SetField(-2, sha);
        _lua.Pop(1);
        _sources[sha] = new CachedScript(body, flags, TailLine(body, 1, int.MaxValue));
        return null;
    }

    /// <summary>SCRIPT FLUSH: forgets every script.</summary>
    public void Flush()
    {
        _sources.Clear();
        _lua.NewTable();
        _lua.SetGlobal("__tessera_scripts");
        _lua.GarbageCollector(LuaGC.Collect, 0);
    }

    /// <summary>Runs a cached script with its KEYS and ARGV and writes its reply (or error) for the caller.</summary>
    public void Run(CommandContext c, string sha, int keyIndex, int keyCount, bool readOnly, bool allowOom)
    {
        var lua = _lua;
        var top = lua.GetTop();
        lua.GetGlobal("__tessera_per_call");
        PushArguments(c, keyIndex, keyIndex + keyCount);
        lua.SetField(-2, "KEYS");
        PushArguments(c, keyIndex + keyCount, c.ArgCount);
        lua.SetField(-2, "ARGV");
        lua.Pop(1);
        var tailLine = _sources[sha].TailLine;
        lua.PushString("user_script:" + tailLine);
        lua.SetGlobal("__tessera_tail_place");
        lua.GetGlobal("__tessera_error_handler");
        lua.GetGlobal("__tessera_scripts");
        lua.GetField(-1, sha);
        lua.Remove(-2);
        Execute(c, 0, top, readOnly, allowOom, sha, tailLine);
    }

    /// <summary>
    /// Calls the function on the stack (above the error handler at <paramref name="top"/> + 1) with
    /// <paramref name="arguments"/> arguments and writes its reply or error for the caller. An error's line
    /// comes from the handler, or is <paramref name="unknownLine"/> when the script's frame was gone.
    /// </summary>
    private void Execute(CommandContext c, int arguments, int top, bool readOnly, bool allowOom, string name, string unknownLine)
    {
        var lua = _lua;
        _caller = c;
        _readOnly = readOnly;
        _allowOom = allowOom;
        _scratch.Protocol = 2;
        _replTargets = Persistence.PropagationTargets.All;
        _wrote = false;
        _runningFunction = arguments > 0 ? name : null;
        BeginRun();
        var db = c.Session.Db.Index;
        var status = lua.PCall(arguments, 1, top + 1);
        // A SELECT in the script selected for the script only (Redis runs scripts on a client of their own).
        c.Session.Select(db);
        _caller = null;
        EndRun(name);
        if (status == LuaStatus.OK && ErrorTableText(lua) is { } text)
        {
            // An error reply of the script's: counted unless a failed redis.call counted it.
            ReplyError(c, text.Replace('\r', ' ').Replace('\n', ' '), lua);
        }
        else if (status == LuaStatus.OK)
        {
            LuaReplies.Write(lua, c.Reply, -1, _scratch.Protocol);
        }
        else
        {
            if (status == LuaStatus.ErrMem)
            {
                // What the script built up to the limit is garbage now: free it before the next script needs room.
                lua.GarbageCollector(LuaGC.Collect, 0);
            }
            var message = ErrorText(-1);
            if (lua.IsTable(-1))
            {
                var line = LuaReplies.RawField(lua, -1, "line") == LuaType.Number ? lua.ToInteger(-1).ToString(CultureInfo.InvariantCulture) : unknownLine;
                lua.Pop(1);
                message += $" script: {name}, on {(arguments == 0 ? "@user_script" : "@user_function")}:{line}.";
            }
            ReplyError(c, message.Replace('\r', ' ').Replace('\n', ' '), lua);
        }
        lua.SetTop(top);
    }

    /// <summary>The err text of the {err=...} table at the top of the stack, or null for any other value.</summary>
    private static string? ErrorTableText(Lua lua)
    {
        if (!lua.IsTable(-1))
        {
            return null;
        }
        var text = LuaReplies.RawField(lua, -1, "err") == LuaType.String ? lua.ToString(-1, false) : null;
        lua.Pop(1);
        return text;
    }

    /// <summary>Replies the error at the top of the stack's text; counted unless it carries the counted mark.</summary>
    private static void ReplyError(CommandContext c, string message, Lua lua)
    {
        var counted = lua.IsTable(-1) && LuaReplies.RawField(lua, -1, CountedField) == LuaType.Boolean && lua.ToBoolean(-1);
        lua.Pop(1);
        if (counted)
        {
            c.ErrorCountedBefore(message);
        }
        else
        {
            c.Error(message);
        }
    }

    /// <summary>
    /// The text of the error value at <paramref name="index"/>: an {err=...} table's err (read raw: the error
    /// object is the script's, and its metamethods must not run outside the protected call), or the value. A table
    /// without a string err, on which redis-server 7.0 crashes, is "ERR unknown error".
    /// </summary>
    private string ErrorText(int index)
    {
        if (!_lua.IsTable(index))
        {
            return "ERR " + _lua.ToString(index, false);
        }
        var message = LuaReplies.RawField(_lua, index, "err") == LuaType.String ? _lua.ToString(-1, false)! : "ERR unknown error";
        _lua.Pop(1);
        return message;
    }

    /// <summary>
    /// The line an error is placed on when the script's frame is gone: a function called in tail position
    /// ("return redis.call(...)") runs after Lua 5.4 dropped the caller's frame, which Redis's Lua 5.1 keeps for
    /// its C functions. Among lines <paramref name="first"/> to <paramref name="last"/> (a function's), the one
    /// that returns a call, when there is exactly one (a one-line script has only line 1); else "?".
    /// </summary>
    internal static string TailLine(byte[] code, int first, int last)
    {
        var text = Encoding.Latin1.GetString(code);
        if (!text.Contains('\n'))
        {
            return "1";
        }
        var lines = TailCall().Matches(text).Select(m => text.AsSpan(0, m.Index).Count('\n') + 1)
            .Where(line => line >= first && line <= last).Distinct().ToList();
        return lines.Count == 1 ? lines[0].ToString(CultureInfo.InvariantCulture) : "?";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\breturn\s+[A-Za-z_][\w.:]*\s*[(""'{]")]
    private static partial System.Text.RegularExpressions.Regex TailCall();

    /// <summary>Arguments [start, end) as a Lua array: KEYS or ARGV.</summary>
    private void PushArguments(CommandContext c, int start, int end)
    {
        _lua.CreateTable(end - start, 0);
        for (var i = start; i < end; i++)
        {
            _lua.PushBuffer(c.Arg(i).ToArray());
            _lua.RawSetInteger(-2, i - start + 1);
        }
    }

    /// <summary>
    /// __tessera_call(command, args...): runs the command and returns its reply as Lua values, or an error table
    /// and true.
    /// </summary>
    private int Call(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var caller = _caller!;
        if (CommandArguments(lua) is not { } args)
        {
            return 2;
        }
        var changes = _changes.Total;
        var propagation = _propagation;
        propagation.Targets = _replTargets;
        string? error;
        try
        {
            // A script that wrote may not be stopped halfway by the memory limit (Redis's scriptVerifyOOM).
            var denyOom = !_allowOom && !_wrote && caller.Session.PreCommandOom && (caller.Session.Flags & ClientFlags.Master) == 0;
            error = caller.Session.RunFromScript(args, _scratch, _readOnly, denyOom);
        }
        finally
        {
            propagation.Targets = Persistence.PropagationTargets.All;
        }
        _wrote |= _changes.Total != changes;
        if (error is not null)
        {
            return Fail(lua, error, counted: true);
        }
        bool failed;
        var first = _scratch.PeekFirst();
        if (first.Length == _scratch.Length)
        {
            failed = LuaReplies.Push(lua, first);
        }
        else
        {
            var whole = new byte[_scratch.Length];
            _scratch.CopyTo(whole);
            failed = LuaReplies.Push(lua, whole);
        }
        _scratch.Clear();
        if (failed)
        {
            // The command counted its error when it replied it.
            MarkCounted(lua);
        }
        lua.PushBoolean(failed);
        return 2;
    }

    /// <summary>
    /// Marks the error table on top of the stack as counted already (Redis's ignore_error_stats_update): when it
    /// becomes the script's reply it is not counted again.
    /// </summary>
    private static void MarkCounted(Lua lua)
    {
        lua.PushBoolean(true);
        lua.SetField(-2, CountedField);
    }

    private const string CountedField = "ignore_error_stats_update";

    /// <summary>
    /// The arguments of redis.call (luaArgsToRedisArgv): strings, and numbers as 5.1 writes them; null after
    /// pushing Redis's error and true.
    /// </summary>
    private static byte[][]? CommandArguments(Lua lua)
    {
        var count = lua.GetTop();
        if (count == 0)
        {
            Fail(lua, "ERR Please specify at least one argument for this redis lib call");
            return null;
        }
        var args = new byte[count][];
        for (var i = 1; i <= count; i++)
        {
            var type = lua.Type(i);
            if (type == LuaType.Number)
            {
                args[i - 1] = Encoding.ASCII.GetBytes(lua.IsInteger(i)
                    ? lua.ToInteger(i).ToString(CultureInfo.InvariantCulture)
                    : FormatNumber(lua.ToNumber(i)));
            }
            else if (type == LuaType.String)
            {
                args[i - 1] = lua.ToBuffer(i, false);
            }
            else
            {
                Fail(lua, "ERR Lua redis lib command arguments must be strings or integers");
                return null;
            }
        }
        return args;
    }

    /// <summary>
    /// __tessera_acl_check(command, args...): redis.acl_check_cmd, whether the caller's user may run the command
    /// with these arguments; an error table and true for no such command.
    /// </summary>
    private int AclCheck(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        if (CommandArguments(lua) is not { } args)
        {
            return 2;
        }
        if (_caller!.Session.MayRunFromScript(args) is not { } allowed)
        {
            return Fail(lua, "ERR Invalid command passed to redis.acl_check_cmd()");
        }
        lua.PushBoolean(allowed);
        lua.PushBoolean(false);
        return 2;
    }

    /// <summary>
    /// Lua's allocator (a realloc): counts the state's memory and refuses to grow it past its limit, which Lua
    /// turns into a "not enough memory" error (after a full collection).
    /// </summary>
    private unsafe IntPtr Allocate(IntPtr ud, IntPtr ptr, UIntPtr oldSize, UIntPtr newSize)
    {
        var old = ptr == IntPtr.Zero ? 0 : (long)oldSize;
        if (newSize == 0)
        {
            NativeMemory.Free((void*)ptr);
            _memory -= old;
            return IntPtr.Zero;
        }
        if ((long)newSize > old && _memory + (long)newSize - old > _memoryLimit)
        {
            return IntPtr.Zero;
        }
        var moved = (IntPtr)NativeMemory.Realloc((void*)ptr, newSize);
        if (moved != IntPtr.Zero)
        {
            _memory += (long)newSize - old;
        }
        return moved;
    }

    /// <summary>Bytes the Lua state holds (INFO used_memory_lua).</summary>
    public long LuaMemory => _memory;

    private static int Fail(Lua lua, string error, bool counted = false)
    {
        lua.CreateTable(0, 1);
        lua.PushString(error);
        lua.SetField(-2, "err");
        if (counted)
        {
            MarkCounted(lua);
        }
        lua.PushBoolean(true);
        return 2;
    }

    /// <summary>Lua 5.1's number format (%.14g), so 3.0 passes as "3" as in Redis.</summary>
    private static string FormatNumber(double value) => value.ToString("G14", CultureInfo.InvariantCulture).Replace("E+", "e+").Replace("E-", "e-");

    /// <summary>redis.setresp once the sandbox checked it: 2 or 3, the protocol redis.call replies are converted from.</summary>
    private int SetResp(IntPtr state)
    {
        _scratch.Protocol = (int)Lua.FromIntPtr(state).ToInteger(1);
        return 0;
    }

    /// <summary>redis.set_repl once the sandbox checked it: where the script's next commands propagate.</summary>
    private int SetRepl(IntPtr state)
    {
        _replTargets = (Persistence.PropagationTargets)Lua.FromIntPtr(state).ToInteger(1);
        return 0;
    }

    /// <summary>redis.sha1hex of the text the sandbox made of its argument.</summary>
    private int Sha1Hex(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        lua.PushString(Sha1(lua.ToBuffer(1, false)));
        return 1;
    }

    /// <summary>redis.log(level, text) once the sandbox checked the level and joined the text as Redis does.</summary>
    private int Log(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var text = Encoding.Latin1.GetString(lua.ToBuffer(2, false));
        var level = lua.ToInteger(1) switch
        {
            0 or 1 => LogLevel.Debug,
            2 => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        _logger.ScriptLog(level, text);
        return 0;
    }

    public void Dispose() => _lua.Dispose();
}
