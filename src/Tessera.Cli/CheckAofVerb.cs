using System.CommandLine;
using Tessera.Server.Persistence.Aof;

namespace Tessera.Cli;

/// <summary><c>tessera check-aof [--fix] FILE</c>: checks (and repairs) an AOF as redis-check-aof does; exit code 1 when it is damaged.</summary>
internal static class CheckAofVerb
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The AOF manifest (appendonlydir/appendonly.aof.manifest) or a single AOF file" };
        var fix = new Option<bool>("--fix") { Description = "Truncate a damaged last file to its sound part, keeping the original as FILE.bak" };
        var command = new Command("check-aof", "Check an append-only file (Redis's multi-part format) and report the first problem.");
        command.Arguments.Add(file);
        command.Options.Add(fix);
        command.SetAction(result => AofCheck.Run(result.GetValue(file)!, result.GetValue(fix), Console.Out) ? 0 : 1);
        return command;
    }
}
