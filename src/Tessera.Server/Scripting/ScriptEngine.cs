using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KeraLua;
using Microsoft.Extensions.Logging;
using Tessera.Resp;
using Tessera.Server.Logging;
using Tessera.Server.Sessions;

namespace Tessera.Server.Scripting;

/// <summary>
/// EVAL's engine (Redis's script_lua.c and eval.c): one Lua state for the node, scripts cached by SHA1 and run
/// in the sandbox of <c>sandbox.lua</c>. redis.call runs the command through the calling client's session with a
/// private reply buffer, and the reply is converted to Lua values by Redis's rules. Used under the execution
/// lock, so a script is atomic.
/// </summary>
internal sealed partial class ScriptEngine : IDisposable
{
    private readonly TesseraServer _server;
    private readonly Lua _lua;
    private readonly LuaFunction _call;
    private readonly LuaFunction _sha1hex;
    private readonly LuaFunction _log;
    private readonly LuaFunction _killed;
    private readonly LuaFunction _setResp;
    private readonly Dictionary<string, byte[]> _sources = [];
    private readonly RespWriter _scratch = new();
    private CommandContext? _caller;
    private bool _readOnly;
    private bool _wrote;
    private string? _runningFunction;

    public ScriptEngine(TesseraServer server)
    {
        _server = server;
        _lua = new Lua(openLibs: true) { Encoding = Encoding.Latin1 };
        _call = Call;
        _sha1hex = Sha1Hex;
        _log = Log;
        _killed = Killed;
        _setResp = SetResp;
        _lua.Register("__tessera_killed", _killed);
        _lua.Register("__tessera_setresp", _setResp);
        _lua.Register("__tessera_call", _call);
        _lua.Register("__tessera_sha1hex", _sha1hex);
        _lua.Register("__tessera_log", _log);
        // cjson.null: a light userdata, as in Redis.
        _lua.PushLightUserData(IntPtr.Zero);
        _lua.SetGlobal("__tessera_null");
        using var stream = typeof(ScriptEngine).Assembly.GetManifestResourceStream("sandbox.lua")!;
        using var reader = new StreamReader(stream);
        if (_lua.DoString(reader.ReadToEnd()))
        {
            throw new InvalidOperationException("the script sandbox failed to load: " + _lua.ToString(-1, false));
        }
        _lua.NewTable();
        _lua.SetGlobal("__tessera_scripts");
        _lua.NewTable();
        _lua.SetGlobal("__tessera_functions");
    }

    /// <summary>Scripts in the cache (INFO number_of_cached_scripts).</summary>
    public int Count => _sources.Count;

    /// <summary>Lowercase hex SHA1 of a script body, its name in the cache.</summary>
    public static string Sha1(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA1.HashData(body));

    public bool Exists(string sha) => _sources.ContainsKey(sha);

    /// <summary>Compiles and caches a script; null on success, else Redis's compile error text.</summary>
    public string? Load(string sha, byte[] body)
    {
        if (_sources.ContainsKey(sha))
        {
            return null;
        }
        if (_lua.LoadBuffer(body, "@user_script") != LuaStatus.OK)
        {
            var message = _lua.ToString(-1, false);
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
        _sources[sha] = body;
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
    public void Run(CommandContext c, string sha, int keyIndex, int keyCount, bool readOnly)
    {
        var lua = _lua;
        var top = lua.GetTop();
        lua.GetGlobal("__tessera_per_call");
        PushArguments(c, keyIndex, keyIndex + keyCount);
        lua.SetField(-2, "KEYS");
        PushArguments(c, keyIndex + keyCount, c.ArgCount);
        lua.SetField(-2, "ARGV");
        lua.Pop(1);
        var singleLine = SingleLine(sha);
        lua.PushBoolean(singleLine);
        lua.SetGlobal("__tessera_single_line");
        lua.GetGlobal("__tessera_error_handler");
        lua.GetGlobal("__tessera_scripts");
        lua.GetField(-1, sha);
        lua.Remove(-2);
        Execute(c, 0, top, readOnly, sha, singleLine ? "1" : "?");
    }

    /// <summary>
    /// Calls the function on the stack (above the error handler at <paramref name="top"/> + 1) with
    /// <paramref name="arguments"/> arguments and writes its reply or error for the caller. An error's line
    /// comes from the handler, or is <paramref name="unknownLine"/> when the script's frame was gone.
    /// </summary>
    private void Execute(CommandContext c, int arguments, int top, bool readOnly, string name, string unknownLine)
    {
        var lua = _lua;
        _caller = c;
        _readOnly = readOnly;
        _scratch.Protocol = 2;
        _wrote = false;
        _runningFunction = arguments > 0 ? name : null;
        BeginRun();
        var status = lua.PCall(arguments, 1, top + 1);
        _caller = null;
        EndRun(name);
        if (status == LuaStatus.OK)
        {
            LuaReplies.Write(lua, c.Reply, -1, _scratch.Protocol);
        }
        else
        {
            var message = ErrorText(-1);
            if (lua.IsTable(-1))
            {
                var line = LuaReplies.RawField(lua, -1, "line") == LuaType.Number ? lua.ToInteger(-1).ToString(CultureInfo.InvariantCulture) : unknownLine;
                lua.Pop(1);
                message += $" script: {name}, on {(arguments == 0 ? "@user_script" : "@user_function")}:{line}.";
            }
            c.Error(message.Replace('\r', ' ').Replace('\n', ' '));
        }
        lua.SetTop(top);
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
    /// True for a script of one line: an error raised where its frame is gone (a call in tail position) can
    /// only have come from line 1.
    /// </summary>
    private bool SingleLine(string sha) => !_sources[sha].AsSpan().Contains((byte)'\n');

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
        var count = lua.GetTop();
        if (count == 0)
        {
            return Fail(lua, "ERR Please specify at least one argument for this redis lib call");
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
                return Fail(lua, "ERR Lua redis lib command arguments must be strings or integers");
            }
        }
        var changes = _server.Changes;
        var error = caller.Session.RunFromScript(args, _scratch, _readOnly);
        _wrote |= _server.Changes != changes;
        if (error is not null)
        {
            return Fail(lua, error);
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
        lua.PushBoolean(failed);
        return 2;
    }

    private static int Fail(Lua lua, string error)
    {
        lua.CreateTable(0, 1);
        lua.PushString(error);
        lua.SetField(-2, "err");
        lua.PushBoolean(true);
        return 2;
    }

    /// <summary>Lua 5.1's number format (%.14g), so 3.0 passes as "3" as in Redis.</summary>
    private static string FormatNumber(double value) => value.ToString("G14", CultureInfo.InvariantCulture).Replace("E+", "e+").Replace("E-", "e-");

    /// <summary>redis.setresp(2|3): the protocol redis.call replies are converted from; false for another version.</summary>
    private int SetResp(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var version = lua.IsInteger(1) ? lua.ToInteger(1) : 0;
        if (version is 2 or 3)
        {
            _scratch.Protocol = (int)version;
        }
        lua.PushBoolean(version is 2 or 3);
        return 1;
    }

    private int Sha1Hex(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        lua.PushString(Sha1(lua.Type(1) is LuaType.String or LuaType.Number ? lua.ToBuffer(1, false) : []));
        return 1;
    }

    /// <summary>
    /// redis.log(level, ...) once the sandbox checked its arguments: strings and numbers are joined with spaces
    /// (as Redis's luaLogCommand, a space before every argument but the first, other values skipped) and logged at
    /// the level's severity. Values are read without metamethods: a __tostring would run outside the protected
    /// call.
    /// </summary>
    private int Log(IntPtr state)
    {
        var lua = Lua.FromIntPtr(state);
        var text = new StringBuilder();
        for (var i = 2; i <= lua.GetTop(); i++)
        {
            if (i > 2)
            {
                text.Append(' ');
            }
            if (lua.Type(i) is LuaType.String or LuaType.Number)
            {
                text.Append(Encoding.Latin1.GetString(lua.ToBuffer(i, false)));
            }
        }
        var level = lua.ToInteger(1) switch
        {
            0 or 1 => LogLevel.Debug,
            2 => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        _server.Log.ScriptLog(level, text.ToString());
        return 0;
    }

    public void Dispose() => _lua.Dispose();
}
