using System.Globalization;
using System.Text;

namespace Tessera.TestKit;

/// <summary>A parsed reply, for assertions: its RESP type marker, text or integer, and children.</summary>
public sealed class RespValue
{
    private RespValue(char type, string? text, long integer, IReadOnlyList<RespValue> items)
    {
        Type = type;
        Text = text;
        Integer = integer;
        Items = items;
    }

    /// <summary>The RESP type byte: '+', '-', ':', '$', '*', '%', '~', '_', ',', '#', '=' ...</summary>
    public char Type { get; }

    /// <summary>Simple/bulk/verbatim/error text (null for a null bulk or array).</summary>
    public string? Text { get; }

    public long Integer { get; }

    public IReadOnlyList<RespValue> Items { get; }

    public bool IsError => Type == '-';

    public bool IsNull => Type == '_' || ((Type == '$' || Type == '*') && Text is null && Items.Count == 0 && Integer == -1);

    public static RespValue Parse(byte[] bytes)
    {
        var position = 0;
        return ParseOne(bytes, ref position);
    }

    public override string ToString() => Type switch
    {
        '*' or '~' or '>' or '%' => "[" + string.Join(", ", Items) + "]",
        ':' => Integer.ToString(CultureInfo.InvariantCulture),
        _ => Text ?? "(nil)",
    };

    private static RespValue ParseOne(byte[] bytes, ref int position)
    {
        var end = bytes.AsSpan(position).IndexOf("\r\n"u8) + position;
        var type = (char)bytes[position];
        var header = Encoding.UTF8.GetString(bytes, position + 1, end - position - 1);
        position = end + 2;
        switch (type)
        {
            case '$':
            case '=':
            case '!':
                var length = int.Parse(header, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return new RespValue(type, null, -1, []);
                }
                var text = Encoding.UTF8.GetString(bytes, position, length);
                position += length + 2;
                return new RespValue(type, type == '=' ? text[4..] : text, 0, []);
            case '*':
            case '~':
            case '>':
            case '%':
                var count = int.Parse(header, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return new RespValue(type, null, -1, []);
                }
                var items = new List<RespValue>();
                for (var i = 0; i < (type == '%' ? count * 2 : count); i++)
                {
                    items.Add(ParseOne(bytes, ref position));
                }
                return new RespValue(type, null, 0, items);
            case ':':
                return new RespValue(type, header, long.Parse(header, CultureInfo.InvariantCulture), []);
            default:
                return new RespValue(type, header, 0, []);
        }
    }
}
