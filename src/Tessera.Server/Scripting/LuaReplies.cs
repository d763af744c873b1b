using System.Buffers.Text;
using KeraLua;
using Tessera.Resp;

namespace Tessera.Server.Scripting;

/// <summary>
/// Redis's conversions between RESP replies and Lua values (script_lua.c). Into Lua: integers become numbers,
/// bulk strings strings, nulls false, arrays tables, status replies {ok=...} and errors {err=...}. Out of Lua:
/// numbers become integers (truncated), strings bulk strings, true 1, false and nil null, tables with ok or err
/// status or error replies, other tables arrays up to their first nil.
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

    /// <summary>Writes the Lua value at <paramref name="index"/> as the script's reply.</summary>
    public static void Write(Lua lua, RespWriter w, int index)
    {
        index = lua.AbsIndex(index);
        switch (lua.Type(index))
        {
            case LuaType.Number:
                w.WriteInteger(lua.IsInteger(index) ? lua.ToInteger(index) : Truncate(lua.ToNumber(index)));
                break;
            case LuaType.String:
                w.WriteBulk(lua.ToBuffer(index));
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
                WriteTable(lua, w, index);
                break;
            default:
                w.WriteNullBulk();
                break;
        }
    }

    /// <summary>C's (long long) cast on x86-64, as Redis converts: out of range and NaN give the minimum.</summary>
    private static long Truncate(double value)
        => value >= -9223372036854775808.0 && value < 9223372036854775808.0 ? (long)value : long.MinValue;

    private static void WriteTable(Lua lua, RespWriter w, int index)
    {
        if (lua.GetField(index, "err") == LuaType.String)
        {
            w.WriteError(lua.ToString(-1)!.Replace('\r', ' ').Replace('\n', ' '));
            lua.Pop(1);
            return;
        }
        lua.Pop(1);
        if (lua.GetField(index, "ok") == LuaType.String)
        {
            w.WriteSimpleString(lua.ToBuffer(-1));
            lua.Pop(1);
            return;
        }
        lua.Pop(1);
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
            Write(lua, w, -1);
            lua.Pop(1);
        }
    }
}
