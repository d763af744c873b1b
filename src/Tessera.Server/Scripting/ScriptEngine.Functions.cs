using System.Text;
using KeraLua;
using Tessera.Server.Sessions;

namespace Tessera.Server.Scripting;

/// <summary>A function library (FUNCTION LOAD): its code and the functions it registered.</summary>
internal sealed record FunctionLibrary(string Name, byte[] Code, Dictionary<string, LibraryFunction> Functions);

/// <summary>
/// A registered function's flags and description (FUNCTION LIST), and where an error whose frame is gone is
/// placed in it (see <see cref="ScriptEngine.TailLine"/>).
/// </summary>
internal sealed record LibraryFunction(ScriptFlags Flags, string? Description, string TailLine);

/// <summary>Redis 7 functions (functions.c, function_lua.c) on the same Lua state as EVAL.</summary>
internal sealed partial class ScriptEngine
{
    private readonly Dictionary<string, FunctionLibrary> _libraries = new(StringComparer.Ordinal);
    // Function names are case-insensitive across libraries (Redis's functionDictType); the Lua table of callbacks,
    // __tessera_functions, is keyed by the lowercase name.
    private readonly Dictionary<string, FunctionLibrary> _functionOwners = new(StringComparer.OrdinalIgnoreCase);

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
        if (_lua.LoadBuffer(body, "@user_function", "t") != LuaStatus.OK)
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
        var functions = new Dictionary<string, LibraryFunction>(StringComparer.Ordinal);
        _lua.PushNil();
        while (_lua.Next(top + 2))
        {
            var function = _lua.ToString(-2, false)!;
            if (_functionOwners.TryGetValue(function, out var owner) && owner.Name != name)
            {
                _lua.SetTop(top);
                return (null, $"ERR Function {function} already exists");
            }
            functions[function] = Registered(-1, body);
            _lua.Pop(1);
        }
        if (functions.Count == 0)
        {
            _lua.SetTop(top);
            return (null, "ERR No functions registered");
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
            // Stack: name, its entry; functions[lowercase name] = entry.callback.
            _lua.GetField(-1, "callback");
            _lua.SetField(top + 3, _lua.ToString(-3, false)!.ToLowerInvariant());
            _lua.Pop(1);
        }
        foreach (var function in functions.Keys)
        {
            _functionOwners[function] = library;
        }
        _lua.SetTop(top);
        return (name, null);
    }

    /// <summary>
    /// The library name of the "#!&lt;engine&gt; name=..." line that starts <paramref name="code"/>, or Redis's error
    /// (functionExtractLibMetaData: the line is split with Redis's quoting rules, name= in any case).
    /// </summary>
    private static (string? Name, string? Error) LibraryName(byte[] code)
    {
        if (!code.AsSpan().StartsWith("#!"u8))
        {
            return (null, "ERR Missing library metadata");
        }
        var newline = Array.IndexOf(code, (byte)'\n');
        var parts = newline < 0 ? null : Resp.InlineSplitter.SplitWords(code.AsSpan(0, newline));
        if (parts is not { Length: > 0 })
        {
            return (null, "ERR Invalid library metadata");
        }
        var engine = Encoding.Latin1.GetString(parts[0].AsSpan(Math.Min(2, parts[0].Length)));
        string? name = null;
        foreach (var part in parts.Skip(1).Select(Encoding.Latin1.GetString))
        {
            if (!part.StartsWith("name=", StringComparison.OrdinalIgnoreCase))
            {
                return (null, "ERR Invalid metadata value given: " + part);
            }
            if (name is not null)
            {
                return (null, "ERR Invalid metadata value, name argument was given multiple times");
            }
            name = part[5..];
        }
        if (name is null)
        {
            return (null, "ERR Library name was not given");
        }
        if (!IsValidName(name))
        {
            return (null, "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
        }
        return engine.Equals("lua", StringComparison.OrdinalIgnoreCase) ? (name, null) : (null, $"ERR Engine '{engine}' not found");
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

    /// <summary>The flags of a function (any case), or null when there is none by that name.</summary>
    public ScriptFlags? FunctionFlags(string name)
        => _functionOwners.TryGetValue(name, out var library)
            ? library.Functions.First(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value.Flags
            : null;

    /// <summary>FCALL: runs a registered function with its keys and arguments.</summary>
    public void CallFunction(CommandContext c, string name, int keyCount, bool readOnly, bool allowOom)
    {
        var lua = _lua;
        var top = lua.GetTop();
        var library = _functionOwners[name];
        lua.GetGlobal("__tessera_error_handler");
        lua.GetGlobal("__tessera_functions");
        lua.GetField(-1, name.ToLowerInvariant());
        lua.Remove(-2);
        PushArguments(c, 3, 3 + keyCount);
        PushArguments(c, 3 + keyCount, c.ArgCount);
        var (registered, function) = library.Functions.First(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
        lua.PushString("user_function:" + function.TailLine);
        lua.SetGlobal("__tessera_tail_place");
        Execute(c, 2, top, readOnly, allowOom, registered, function.TailLine);
    }

    private void DropFunctions(FunctionLibrary library)
    {
        _lua.GetGlobal("__tessera_functions");
        foreach (var function in library.Functions.Keys)
        {
            _functionOwners.Remove(function);
            _lua.PushNil();
            _lua.SetField(-2, function.ToLowerInvariant());
        }
        _lua.Pop(1);
    }

    /// <summary>A registered function's flags and description (the sandbox's entry at <paramref name="index"/>).</summary>
    private LibraryFunction Registered(int index, byte[] code)
    {
        index = _lua.AbsIndex(index);
        var flags = ScriptFlags.None;
        if (_lua.GetField(index, "flags") == LuaType.Table)
        {
            for (var i = 1; _lua.RawGetInteger(-1, i) == LuaType.String; i++)
            {
                flags |= ScriptFlagNames.Parse(_lua.ToString(-1, false)!, StringComparison.Ordinal);
                _lua.Pop(1);
            }
            _lua.Pop(1);
        }
        _lua.Pop(1);
        var description = _lua.GetField(index, "description") == LuaType.String ? _lua.ToString(-1, false) : null;
        _lua.Pop(1);
        _lua.GetField(index, "first_line");
        _lua.GetField(index, "last_line");
        var tailLine = TailLine(code, (int)_lua.ToInteger(-2), (int)_lua.ToInteger(-1));
        _lua.Pop(2);
        return new LibraryFunction(flags, description, tailLine);
    }

    private static bool IsValidName(string name)
        => name.Length > 0 && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}
