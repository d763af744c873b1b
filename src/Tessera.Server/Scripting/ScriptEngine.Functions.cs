using System.Text;
using KeraLua;
using Tessera.Server.Sessions;

namespace Tessera.Server.Scripting;

/// <summary>A function library (FUNCTION LOAD): its code and the functions it registered, with their flags.</summary>
internal sealed record FunctionLibrary(string Name, byte[] Code, Dictionary<string, string[]> Functions);

/// <summary>Redis 7 functions (functions.c, function_lua.c) on the same Lua state as EVAL.</summary>
internal sealed partial class ScriptEngine
{
    private readonly Dictionary<string, FunctionLibrary> _libraries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FunctionLibrary> _functionOwners = new(StringComparer.Ordinal);

    /// <summary>Libraries in load order.</summary>
    public IEnumerable<FunctionLibrary> Libraries => _libraries.Values;

    /// <summary>
    /// FUNCTION LOAD: parses the "#!lua name=..." line, runs the code to collect its functions and keeps them;
    /// returns the library's name, or Redis's error.
    /// </summary>
    public (string? Name, string? Error) LoadLibrary(byte[] code, bool replace)
    {
        var (name, metadataError) = LibraryName(code);
        if (name is null)
        {
            return (null, metadataError);
        }
        var newline = Array.IndexOf(code, (byte)'\n');
        if (_libraries.ContainsKey(name) && !replace)
        {
            return (null, $"ERR Library '{name}' already exists");
        }
        // The metadata line stays as an empty line, so errors name the lines the user wrote.
        var body = (byte[])code.Clone();
        Array.Fill(body, (byte)' ', 0, newline);
        if (_lua.LoadBuffer(body, "@user_function") != LuaStatus.OK)
        {
            var message = _lua.ToString(-1, false);
            _lua.Pop(1);
            return (null, "ERR Error compiling function: " + message);
        }
        _lua.GetGlobal("__tessera_function_env");
        _lua.SetUpValue(-2, 1);
        var top = _lua.GetTop() - 1;
        _lua.GetGlobal("__tessera_load_library");
        _lua.Insert(-2);
        _lua.GetGlobal("__tessera_error_handler");
        _lua.Insert(-3);
        if (RunLibraryCode(1, 1, top + 1) != LuaStatus.OK)
        {
            var error = ErrorText(-1);
            _lua.SetTop(top);
            return (null, "ERR Error registering functions: " + error);
        }
        var functions = new Dictionary<string, string[]>(StringComparer.Ordinal);
        _lua.PushNil();
        while (_lua.Next(top + 2))
        {
            var function = _lua.ToString(-2, false)!;
            if (_functionOwners.TryGetValue(function, out var owner) && owner.Name != name)
            {
                _lua.SetTop(top);
                return (null, $"ERR Function {function} already exists");
            }
            functions[function] = Flags(-1);
            _lua.Pop(1);
        }
        if (_libraries.Remove(name, out var replaced))
        {
            DropFunctions(replaced);
        }
        var library = new FunctionLibrary(name, code, functions);
        _libraries[name] = library;
        _lua.GetGlobal("__tessera_functions");
        _lua.PushNil();
        while (_lua.Next(top + 2))
        {
            // Stack: name, its entry; functions[name] = entry.callback.
            _lua.GetField(-1, "callback");
            _lua.SetField(top + 3, _lua.ToString(-3, false)!);
            _lua.Pop(1);
        }
        foreach (var function in functions.Keys)
        {
            _functionOwners[function] = library;
        }
        _lua.SetTop(top);
        return (name, null);
    }

    /// <summary>The library name of the "#!lua name=..." line that starts <paramref name="code"/>, or Redis's error.</summary>
    private static (string? Name, string? Error) LibraryName(byte[] code)
    {
        var newline = Array.IndexOf(code, (byte)'\n');
        if (code.Length < 2 || code[0] != (byte)'#' || code[1] != (byte)'!')
        {
            return (null, "ERR Missing library metadata");
        }
        var metadata = newline < 0 ? null : Encoding.Latin1.GetString(code, 2, newline - 2).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (metadata is not { Length: 2 } || !metadata[1].StartsWith("name=", StringComparison.Ordinal))
        {
            return (null, "ERR Invalid library metadata");
        }
        if (!metadata[0].Equals("lua", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"ERR Engine '{metadata[0]}' not found");
        }
        var name = metadata[1][5..];
        return IsValidName(name)
            ? (name, null)
            : (null, "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }

    /// <summary>
    /// FUNCTION RESTORE: loads the libraries of a dump all or none. FLUSH drops the current ones first, REPLACE
    /// the ones with the same names, APPEND refuses a name already loaded. On any error the libraries are as
    /// before and the error is returned.
    /// </summary>
    public string? RestoreLibraries(IReadOnlyList<byte[]> codes, string policy)
    {
        var before = _libraries.Values.ToList();
        var names = new List<string>();
        foreach (var code in codes)
        {
            var (name, error) = LibraryName(code);
            if (name is null)
            {
                return error;
            }
            if (policy == "append" && _libraries.ContainsKey(name))
            {
                return $"ERR Library {name} already exists";
            }
            names.Add(name);
        }
        if (policy == "flush")
        {
            FlushLibraries();
        }
        else if (policy == "replace")
        {
            names.ForEach(name => DeleteLibrary(name));
        }
        foreach (var code in codes)
        {
            var (_, error) = LoadLibrary(code, replace: false);
            if (error is not null)
            {
                FlushLibraries();
                before.ForEach(library => LoadLibrary(library.Code, replace: false));
                return error;
            }
        }
        return null;
    }

    /// <summary>FUNCTION DELETE: false when there is no such library.</summary>
    public bool DeleteLibrary(string name)
    {
        if (!_libraries.Remove(name, out var library))
        {
            return false;
        }
        DropFunctions(library);
        return true;
    }

    /// <summary>FUNCTION FLUSH.</summary>
    public void FlushLibraries()
    {
        foreach (var library in _libraries.Values.ToList())
        {
            DeleteLibrary(library.Name);
        }
    }

    /// <summary>The flags of a function (FCALL_RO needs no-writes), or null when there is none by that name.</summary>
    public string[]? FunctionFlags(string name)
        => _functionOwners.TryGetValue(name, out var library) ? library.Functions[name] : null;

    /// <summary>FCALL: runs a registered function with its keys and arguments.</summary>
    public void CallFunction(CommandContext c, string name, int keyCount, bool readOnly)
    {
        var lua = _lua;
        var top = lua.GetTop();
        lua.GetGlobal("__tessera_error_handler");
        lua.GetGlobal("__tessera_functions");
        lua.GetField(-1, name);
        lua.Remove(-2);
        PushArguments(c, 3, 3 + keyCount);
        PushArguments(c, 3 + keyCount, c.ArgCount);
        lua.PushBoolean(false);
        lua.SetGlobal("__tessera_single_line");
        Execute(c, 2, top, readOnly, name, "@user_function");
    }

    private void DropFunctions(FunctionLibrary library)
    {
        _lua.GetGlobal("__tessera_functions");
        foreach (var function in library.Functions.Keys)
        {
            _functionOwners.Remove(function);
            _lua.PushNil();
            _lua.SetField(-2, function);
        }
        _lua.Pop(1);
    }

    /// <summary>The flags list of a registered function (the table at <paramref name="index"/>).</summary>
    private string[] Flags(int index)
    {
        var flags = new List<string>();
        if (_lua.GetField(index, "flags") == LuaType.Table)
        {
            for (var i = 1; _lua.RawGetInteger(-1, i) == LuaType.String; i++)
            {
                flags.Add(_lua.ToString(-1, false)!);
                _lua.Pop(1);
            }
            _lua.Pop(1);
        }
        _lua.Pop(1);
        return [.. flags];
    }

    private static bool IsValidName(string name)
        => name.Length > 0 && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}
