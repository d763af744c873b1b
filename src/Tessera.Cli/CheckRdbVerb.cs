using System.CommandLine;
using Tessera.Server.Persistence;

namespace Tessera.Cli;

/// <summary><c>tessera check-rdb FILE</c>: checks a snapshot as redis-check-rdb does; exit code 1 when it is damaged.</summary>
internal static class CheckRdbVerb
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The RDB file to check, such as dump.rdb" };
        var command = new Command("check-rdb", "Check an RDB snapshot (Redis's format) and report the first problem.");
        command.Arguments.Add(file);
        command.SetAction(result => RdbCheck.Run(result.GetValue(file)!, Console.Out) ? 0 : 1);
        return command;
    }
}
