using System.Text;
using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Sessions;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// MONITOR's line for a command: <c>1339518083.107412 [0 127.0.0.1:60866] "set" "key" "value"</c>, arguments
/// quoted like Redis's sdscatrepr and passwords redacted.
/// </summary>
internal static class MonitorLine
{
    public static byte[] Format(ClientSession session, ServerCommand command, Request args, Config.ServerConfig config, bool fromScript)
    {
        var text = new StringBuilder();
        var micros = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        text.Append(micros / 1000000).Append('.').Append((micros % 1000000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture));
        var origin = fromScript ? "lua" : (session.Flags & ClientFlags.UnixSocket) != 0 ? "unix:" + session.LocalAddress[..^2] : session.RemoteAddress;
        text.Append(" [").Append(session.DbIndex).Append(' ').Append(origin).Append(']');
        for (var i = 0; i < args.Count; i++)
        {
            text.Append(' ');
            if (Redaction.IsSecret(command.Info, args, i, config))
            {
                text.Append("\"(redacted)\"");
            }
            else
            {
                AppendQuoted(text, args[i]);
            }
        }
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>Redis's sdscatrepr: printable bytes as is, escapes for quotes, backslash and control bytes.</summary>
    internal static void AppendQuoted(StringBuilder text, ReadOnlySpan<byte> value)
    {
        text.Append('"');
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\':
                    text.Append("\\\\");
                    break;
                case (byte)'"':
                    text.Append("\\\"");
                    break;
                case (byte)'\n':
                    text.Append("\\n");
                    break;
                case (byte)'\r':
                    text.Append("\\r");
                    break;
                case (byte)'\t':
                    text.Append("\\t");
                    break;
                case (byte)'\a':
                    text.Append("\\a");
                    break;
                case (byte)'\b':
                    text.Append("\\b");
                    break;
                default:
                    if (b >= 32 && b < 127)
                    {
                        text.Append((char)b);
                    }
                    else
                    {
                        text.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    break;
            }
        }
        text.Append('"');
    }
}
