using System.Text;
using System.Text.Json;
using Tessera.Resp;

namespace Tessera.Core.Commands;

/// <summary>
/// Writes COMMAND INFO and COMMAND DOCS entries in the exact shapes Redis 7.0 uses (which parts are sets, maps or
/// arrays differs per field and matters to RESP3 clients).
/// </summary>
public static class CommandReplies
{
    /// <summary>The Redis version Tessera's node and proxy behave like and report (INFO, HELLO).</summary>
    public const string RedisVersion = "7.0.15";

    /// <summary>Redis's reply to an unknown command: its name and the start of its arguments, 128 characters at most.</summary>
    public static string UnknownCommandError(Request args)
    {
        var text = new StringBuilder();
        for (var i = 1; i < args.Count && text.Length < 128; i++)
        {
            // The room left is measured before the opening quote, as Redis's "'%.*s' " with 128 - sdslen(args).
            var room = 128 - text.Length;
            text.Append('\'').Append(Truncated(args[i], room)).Append("' ");
        }
        return $"ERR unknown command '{Truncated(args[0], 128)}', with args beginning with: {text}";
    }

    /// <summary>At most <paramref name="max"/> bytes of an argument as text, as Redis's "%.128s" prints it (up to a NUL).</summary>
    public static string Truncated(ReadOnlySpan<byte> arg, int max)
    {
        var nul = arg.IndexOf((byte)0);
        if (nul >= 0)
        {
            arg = arg[..nul];
        }
        return Encoding.Latin1.GetString(arg[..Math.Min(arg.Length, Math.Max(0, max))]);
    }

    /// <summary>HELLO's reply as a standalone master gives it (server, version, proto, id, mode, role, modules).</summary>
    public static void WriteHello(RespWriter w, long protocol, long id)
    {
        w.WriteMapHeader(7);
        w.WriteBulk("server"u8);
        w.WriteBulk("redis"u8);
        w.WriteBulk("version"u8);
        w.WriteBulk(RedisVersion);
        w.WriteBulk("proto"u8);
        w.WriteInteger(protocol);
        w.WriteBulk("id"u8);
        w.WriteInteger(id);
        w.WriteBulk("mode"u8);
        w.WriteBulk("standalone"u8);
        w.WriteBulk("role"u8);
        w.WriteBulk("master"u8);
        w.WriteBulk("modules"u8);
        w.WriteArrayHeader(0);
    }

    /// <summary>One COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories, tips, key specs, subcommands.</summary>
    public static void WriteInfo(RespWriter w, CommandInfo command, Func<CommandInfo, bool> include)
    {
        w.WriteArrayHeader(10);
        w.WriteBulk(command.FullNameBytes);
        w.WriteInteger(command.Arity);
        WriteSimpleSet(w, command.FlagNames);
        w.WriteInteger(command.FirstKey);
        w.WriteInteger(command.LastKey);
        w.WriteInteger(command.Step);
        WriteSimpleSet(w, command.AclCategories);
        w.WriteSetHeader(command.Tips.Count);
        foreach (var tip in command.Tips)
        {
            w.WriteBulk(tip);
        }
        w.WriteSetHeader(command.KeySpecs.Count);
        foreach (var spec in command.KeySpecsJson.EnumerateArray())
        {
            WriteJson(w, spec, null);
        }
        var subcommands = command.Subcommands.Values.Where(include).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        if (subcommands.Count == 0)
        {
            w.WriteSetHeader(0);
            return;
        }
        w.WriteArrayHeader(subcommands.Count);
        foreach (var sub in subcommands)
        {
            WriteInfo(w, sub, include);
        }
    }

    /// <summary>One COMMAND DOCS value (the map after the name), subcommands included.</summary>
    public static void WriteDocs(RespWriter w, CommandInfo command, Func<CommandInfo, bool> include)
    {
        var docs = command.Docs;
        var fields = docs?.EnumerateObject().ToList() ?? [];
        var subcommands = command.Subcommands.Values.Where(include).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        w.WriteMapHeader(fields.Count + (subcommands.Count > 0 ? 1 : 0));
        foreach (var field in fields)
        {
            w.WriteBulk(field.Name);
            WriteJson(w, field.Value, field.Name);
        }
        if (subcommands.Count > 0)
        {
            w.WriteBulk("subcommands"u8);
            w.WriteMapHeader(subcommands.Count);
            foreach (var sub in subcommands)
            {
                w.WriteBulk(sub.FullNameBytes);
                WriteDocs(w, sub, include);
            }
        }
    }

    private static void WriteSimpleSet(RespWriter w, IReadOnlyList<string> items)
    {
        w.WriteSetHeader(items.Count);
        foreach (var item in items)
        {
            w.WriteSimpleString(Encoding.ASCII.GetBytes(item));
        }
    }

    /// <summary>
    /// Key specs and docs as Redis shapes them: objects are maps, strings bulk, numbers integers; "flags" and
    /// "doc_flags" are sets of simple strings, "history" a set of [version, text] pairs, "arguments" an array.
    /// </summary>
    private static void WriteJson(RespWriter w, JsonElement value, string? field)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = value.EnumerateObject().ToList();
                w.WriteMapHeader(properties.Count);
                foreach (var property in properties)
                {
                    w.WriteBulk(property.Name);
                    WriteJson(w, property.Value, property.Name);
                }
                break;
            case JsonValueKind.Array when field is "flags" or "doc_flags":
                WriteSimpleSet(w, [.. value.EnumerateArray().Select(e => e.GetString()!)]);
                break;
            case JsonValueKind.Array:
                var items = value.EnumerateArray().ToList();
                if (field == "history")
                {
                    w.WriteSetHeader(items.Count);
                }
                else
                {
                    w.WriteArrayHeader(items.Count);
                }
                foreach (var item in items)
                {
                    WriteJson(w, item, null);
                }
                break;
            case JsonValueKind.Number:
                w.WriteInteger(value.GetInt64());
                break;
            default:
                w.WriteBulk(value.GetString() ?? "");
                break;
        }
    }
}
