using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// Arguments that are secrets (Redis's redactClientCommandArgument): MONITOR and SLOWLOG show "(redacted)" in
/// their place. AUTH's, HELLO's after AUTH, ACL SETUSER's, MIGRATE's after AUTH and AUTH2, and the values CONFIG SET
/// gives options flagged sensitive.
/// </summary>
internal static class Redaction
{
    public static ReadOnlySpan<byte> Placeholder => "(redacted)"u8;

    public static bool IsSecret(CommandInfo command, Request args, int index, Config.ServerConfig config)
    {
        switch (command.FullName)
        {
            case "auth":
                return index >= 1;
            case "acl|setuser":
                return index >= 2;
            case "hello":
                return index >= 2 && ((index >= 3 && Ascii.EqualsIgnoreCase(args[index - 2], "auth"u8)) || Ascii.EqualsIgnoreCase(args[index - 1], "auth"u8));
            case "config|set":
                return index >= 3 && index % 2 == 1
                    && config.Find(Encoding.Latin1.GetString(args[index - 1]).ToLowerInvariant()) is { } option
                    && (option.Flags & Config.ConfigFlags.Sensitive) != 0;
            case "migrate":
                // MIGRATE ... AUTH password / AUTH2 username password: the words up to KEYS.
                for (var j = 6; j < index && j < args.Count; j++)
                {
                    if (Ascii.EqualsIgnoreCase(args[j], "keys"u8))
                    {
                        return false;
                    }
                    if ((Ascii.EqualsIgnoreCase(args[j], "auth"u8) && index == j + 1)
                        || (Ascii.EqualsIgnoreCase(args[j], "auth2"u8) && (index == j + 1 || index == j + 2)))
                    {
                        return true;
                    }
                }
                return false;
            default:
                return false;
        }
    }
}
