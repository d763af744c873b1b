using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;

namespace Tessera.Server.Sessions;

/// <summary>
/// Arguments that are secrets (Redis's redactClientCommandArgument): MONITOR and SLOWLOG show "(redacted)" in
/// their place. AUTH's, HELLO's after AUTH, ACL SETUSER's, and the values CONFIG SET gives sensitive options.
/// </summary>
internal static class Redaction
{
    public static ReadOnlySpan<byte> Placeholder => "(redacted)"u8;

    public static bool IsSecret(CommandInfo command, Request args, int index)
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
                    && (Ascii.EqualsIgnoreCase(args[index - 1], "requirepass"u8) || Ascii.EqualsIgnoreCase(args[index - 1], "masterauth"u8));
            default:
                return false;
        }
    }
}
