using System.Buffers.Text;
using KeraLua;
using Tessera.Resp;

namespace Tessera.Server.Scripting;

/// <summary>
/// Redis's conversions between RESP replies and Lua values (script_lua.c). Into Lua: integers become numbers,
/// bulk strings strings, nulls false (nil after redis.setresp(3)), arrays tables, status replies {ok=...} and
/// errors {err=...}; RESP3 maps {map=...}, sets {set=...}, doubles {double=...}, booleans booleans, big numbers
/// {big_number=...}, verbatim strings {verbatim_string={format=...,string=...}}. Out of Lua: numbers become
/// integers (truncated), strings bulk strings, true 1 (RESP3: #t), false null (RESP3: #f), tables with ok or err
/// status or error replies, with map, set, double, big_number or verbatim_string those types, other tables
/// arrays up to their first nil.
/// </summary>
internal static class LuaReplies
{
    /// <summary>Pushes the RESP2 reply in <paramref name="reply"/> as one Lua value; true when it is an error.</summary>
    public static bool Push(Lua lua, ReadOnlySpan<byte> reply)
    {
        var error = reply.Length > 0 && reply[0] == (byte)'-';
        PushValue(lua, reply, out _);
        return error;
    }

    private static void PushValue(Lua lua, ReadOnlySpan<byte> reply, out int consumed)
    {
        var lineEnd = reply.IndexOf("\r\n"u8);
        var line = reply[1..lineEnd];
        consumed = lineEnd + 2;
        switch (reply[0])
        {
            case (byte)':':
                Utf8Parser.TryParse(line, out long integer, out _);
                lua.PushInteger(integer);
                break;
            case (byte)'+':
            case (byte)'-':
                lua.CreateTable(0, 1);
                lua.PushBuffer(line.ToArray());
                lua.SetField(-2, reply[0] == (byte)'+' ? "ok" : "err");
                break;
            case (byte)'$':
                Utf8Parser.TryParse(line, out int length, out _);
                if (length < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }
                lua.PushBuffer(reply.Slice(consumed, length).ToArray());
                consumed += length + 2;
                break;
            case (byte)'_':
                lua.PushNil();
                break;
            case (byte)'#':
                lua.PushBoolean(line.Length > 0 && line[0] == (byte)'t');
                break;
            case (byte)',':
                lua.CreateTable(0, 1);
                lua.PushNumber(double.Parse(System.Text.Encoding.ASCII.GetString(line).Replace("inf", "Infinity"), System.Globalization.CultureInfo.InvariantCulture));
                lua.SetField(-2, "double");
                break;
            case (byte)'(':
                lua.CreateTable(0, 1);
                lua.PushBuffer(line.ToArray());
                lua.SetField(-2, "big_number");
                break;
            case (byte)'=':
                Utf8Parser.TryParse(line, out int textLength, out _);
                var verbatim = reply.Slice(consumed, textLength);
                consumed += textLength + 2;
                lua.CreateTable(0, 1);
                lua.CreateTable(0, 2);
                lua.PushBuffer(verbatim[..3].ToArray());
                lua.SetField(-2, "format");
                lua.PushBuffer(verbatim[4..].ToArray());
                lua.SetField(-2, "string");
                lua.SetField(-2, "verbatim_string");
                break;
            case (byte)'|':
                // Attributes are not shown to scripts (as in Redis): the reply they annotate follows them.
                Utf8Parser.TryParse(line, out int attributes, out _);
                for (var i = 0; i < attributes * 2; i++)
                {
                    PushValue(lua, reply[consumed..], out var skipped);
                    consumed += skipped;
                    lua.Pop(1);
                }
                PushValue(lua, reply[consumed..], out var annotated);
                consumed += annotated;
                break;
            case (byte)'%':
            case (byte)'~':
                Utf8Parser.TryParse(line, out int entries, out _);
                var isMap = reply[0] == (byte)'%';
                lua.CreateTable(0, 1);
                lua.CreateTable(0, entries);
                for (var i = 0; i < entries; i++)
                {
                    PushValue(lua, reply[consumed..], out var used);
                    consumed += used;
                    if (isMap)
                    {
                        PushValue(lua, reply[consumed..], out used);
                        consumed += used;
                    }
                    else
                    {
                        lua.PushBoolean(true);
                    }
                    lua.RawSet(-3);
                }
                lua.SetField(-2, isMap ? "map" : "set");
                break;
            default:
                Utf8Parser.TryParse(line, out int count, out _);
                if (count < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }
                lua.CreateTable(count, 0);
                for (var i = 1; i <= count; i++)
                {
                    PushValue(lua, reply[consumed..], out var used);
                    consumed += used;
                    lua.RawSetInteger(-2, i);
                }
                break;
        }
    }

    /// <summary>
    /// Redis runs this conversion in C on Lua 5.1, whose C stack holds 8000 slots: a value nested past that
    /// answers "reached lua stack limit" at the level that did not fit. The same slots are counted here (the
    /// error handler and the result, then what each level pushes) so deep results fail where Redis's do, and the
    /// conversion's recursion stays bounded.
    /// </summary>
    private const int RedisLuaStackSlots = 8000;

    /// <summary>
    /// Writes the Lua value at <paramref name="index"/> as the script's reply. Booleans follow the script's
    /// protocol (<paramref name="scriptProtocol"/>, from redis.setresp), as in Redis. Tables are read raw, as
    /// Redis reads them: no metamethod of the script's runs here, outside the protected call.
    /// </summary>
    public static void Write(Lua lua, RespWriter w, int index, int scriptProtocol) => Write(lua, w, index, scriptProtocol, slots: 2);

    private static void Write(Lua lua, RespWriter w, int index, int scriptProtocol, int slots)
    {
        if (slots + 4 > RedisLuaStackSlots || !lua.CheckStack(4))
        {
            w.WriteError("ERR reached lua stack limit");
            return;
        }
        index = lua.AbsIndex(index);
        switch (lua.Type(index))
        {
            case LuaType.Number:
                w.WriteInteger(lua.IsInteger(index) ? lua.ToInteger(index) : Truncate(lua.ToNumber(index)));
                break;
            case LuaType.String:
                w.WriteBulk(lua.ToBuffer(index, false));
                break;
            case LuaType.Boolean when scriptProtocol == 3:
                w.WriteBoolean(lua.ToBoolean(index));
                break;
            case LuaType.Boolean:
                if (lua.ToBoolean(index))
                {
                    w.WriteInteger(1);
                }
                else
                {
                    w.WriteNullBulk();
                }
                break;
            case LuaType.Table:
                WriteTable(lua, w, index, scriptProtocol, slots);
                break;
            default:
                w.WriteNullBulk();
                break;
        }
    }

    /// <summary>Pushes <paramref name="table"/>[<paramref name="field"/>] without metamethods; returns its type.</summary>
    public static LuaType RawField(Lua lua, int table, string field)
    {
        table = lua.AbsIndex(table);
        lua.PushString(field);
        return lua.RawGet(table);
    }

    /// <summary>Tables standing for RESP3 types: {map=...}, {set=...}, {double=...}, {big_number=...}, {verbatim_string=...}.</summary>
    private static bool WriteTyped(Lua lua, RespWriter w, int index, int scriptProtocol, int slots)
    {
        if (RawField(lua, index, "map") == LuaType.Table)
        {
            WriteEntries(lua, w, lua.GetTop(), map: true, scriptProtocol, slots + 1);
            lua.Pop(1);
            return true;
        }
        lua.Pop(1);
        if (RawField(lua, index, "set") == LuaType.Table)
        {
            WriteEntries(lua, w, lua.GetTop(), map: false, scriptProtocol, slots + 1);
            lua.Pop(1);
            return true;
        }
        lua.Pop(1);
        if (RawField(lua, index, "double") == LuaType.Number)
        {
            w.WriteDouble(lua.ToNumber(-1));
            lua.Pop(1);
            return true;
        }
        lua.Pop(1);
        if (RawField(lua, index, "big_number") == LuaType.String)
        {
            if (w.Protocol == 3)
            {
                w.WriteRaw("("u8);
                w.WriteRaw(SpacesForLineBreaks(lua.ToBuffer(-1, false)));
                w.WriteRaw("\r\n"u8);
            }
            else
            {
                w.WriteBulk(SpacesForLineBreaks(lua.ToBuffer(-1, false)));
            }
            lua.Pop(1);
            return true;
        }
        lua.Pop(1);
        if (RawField(lua, index, "verbatim_string") == LuaType.Table)
        {
            var top = lua.GetTop();
            if (RawField(lua, top, "format") == LuaType.String && RawField(lua, top, "string") == LuaType.String)
            {
                w.WriteVerbatim(lua.ToBuffer(-1, false), lua.ToBuffer(-2, false));
                lua.SetTop(top - 1);
                return true;
            }
            lua.SetTop(top);
        }
        lua.Pop(1);
        return false;
    }

    /// <summary>
    /// A map's or a set's entries, in Lua's table order. Each entry's key is converted from a copy, as Redis
    /// does, so the slots it takes are the ones Redis counts.
    /// </summary>
    private static void WriteEntries(Lua lua, RespWriter w, int table, bool map, int scriptProtocol, int slots)
    {
        var count = 0;
        lua.PushNil();
        while (lua.Next(table))
        {
            count++;
            lua.Pop(1);
        }
        if (map)
        {
            w.WriteMapHeader(count);
        }
        else
        {
            w.WriteSetHeader(count);
        }
        lua.PushNil();
        while (lua.Next(table))
        {
            // Stack: table, key, value (and Redis's duplicate of the key while the key is converted).
            Write(lua, w, -2, scriptProtocol, slots + (map ? 3 : 2));
            if (map)
            {
                Write(lua, w, -1, scriptProtocol, slots + 2);
            }
            lua.Pop(1);
        }
    }

    /// <summary>Status and big number texts go out on one line: Redis maps CR and LF to spaces.</summary>
    private static byte[] SpacesForLineBreaks(byte[] text)
    {
        foreach (ref var c in text.AsSpan())
        {
            if (c is (byte)'\r' or (byte)'\n')
            {
                c = (byte)' ';
            }
        }
        return text;
    }

    /// <summary>C's (long long) cast on x86-64, as Redis converts: out of range and NaN give the minimum.</summary>
    private static long Truncate(double value)
        => value >= -9223372036854775808.0 && value < 9223372036854775808.0 ? (long)value : long.MinValue;

    private static void WriteTable(Lua lua, RespWriter w, int index, int scriptProtocol, int slots)
    {
        if (RawField(lua, index, "err") == LuaType.String)
        {
            w.WriteError(lua.ToString(-1, false)!.Replace('\r', ' ').Replace('\n', ' '));
            lua.Pop(1);
            return;
        }
        lua.Pop(1);
        if (RawField(lua, index, "ok") == LuaType.String)
        {
            w.WriteSimpleString(SpacesForLineBreaks(lua.ToBuffer(-1, false)));
            lua.Pop(1);
            return;
        }
        lua.Pop(1);
        if (WriteTyped(lua, w, index, scriptProtocol, slots))
        {
            return;
        }
        var count = 0;
        while (lua.RawGetInteger(index, count + 1) != LuaType.Nil)
        {
            lua.Pop(1);
            count++;
        }
        lua.Pop(1);
        w.WriteArrayHeader(count);
        for (var i = 1; i <= count; i++)
        {
            lua.RawGetInteger(index, i);
            Write(lua, w, -1, scriptProtocol, slots + 1);
            lua.Pop(1);
        }
    }
}
