using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Tessera.Server;
using Tessera.Server.Logging;

namespace Tessera.Cli;

/// <summary>
/// <c>tessera server [redis.conf] [--option value ...]</c>: starts a node configured exactly like redis-server
/// (same file syntax, same options, same error report), so scripts can swap the binary.
/// </summary>
internal static class ServerVerb
{
    public static Command Create()
    {
        var arguments = new Argument<string[]>("config-and-options")
        {
            Description = "An optional redis.conf path, then redis-server options such as --port 7000 --save \"\"",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("server", "Run a Tessera node, configured like redis-server.");
        command.Arguments.Add(arguments);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(result => Run(result.GetValue(arguments) ?? []));
        return command;
    }

    private static int Run(string[] args)
    {
        var configFile = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : null;
        var options = configFile is null ? args : args[1..];
        ServerOptions serverOptions;
        try
        {
            serverOptions = ServerOptions.Load(configFile, options);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine(e.Report);
            return 1;
        }
        if (serverOptions.Daemonize)
        {
            return Daemonize(args);
        }
        // As redis-server: the process works in "dir", so relative paths (logfile, pidfile ...) resolve there.
        Directory.SetCurrentDirectory(serverOptions.Dir);
        using var output = serverOptions.LogFile.Length > 0
            ? new StreamWriter(new FileStream(serverOptions.LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            : Console.Out;
        TesseraServer? server = null;
        using var loggerFactory = LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(LogLevel.Debug);
            builder.AddProvider(new RedisLogFormat(output, () => LevelOf(server?.LogLevel ?? serverOptions.LogLevel)));
        });
        try
        {
            server = Tessera.Cluster.TesseraHost.Create(serverOptions, loggerFactory);
        }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine(e.Report);
            return 1;
        }
        catch (IOException e)
        {
            // A port that cannot be bound (the cluster bus is bound while the node is built): reported, exit 1.
            loggerFactory.CreateLogger("tessera").LogError("{Message}", e.Message);
            return 1;
        }
        if (serverOptions.PidFile.Length > 0)
        {
            // Written before listening, as redis-server does, so whoever sees the port open finds the pid.
            File.WriteAllText(serverOptions.PidFile, Environment.ProcessId + "\n");
        }
        // Signals are handled before the port opens, so a SIGTERM right after start-up still shuts down cleanly.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => OnSignal(context, server, "SIGTERM"));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnSignal(context, server, "SIGINT"));
        try
        {
            server.Start();
        }
        catch (IOException e)
        {
            loggerFactory.CreateLogger("tessera").LogError("{Message}", e.Message);
            return 1;
        }
        server.Stopped.Wait();
        server.Dispose();
        return 0;
    }

    private static void OnSignal(PosixSignalContext context, TesseraServer server, string name)
    {
        context.Cancel = true;
        server.RequestShutdownBySignal(name);
    }

    private static LogLevel LevelOf(string level) => level switch
    {
        "debug" or "verbose" => LogLevel.Debug,
        "notice" => LogLevel.Information,
        _ => LogLevel.Warning,
    };

    /// <summary>
    /// daemonize yes: .NET cannot fork, so the node starts itself again in the background (through sh, detached
    /// from the terminal, output to /dev/null; the log goes to logfile) with daemonize off, and this process exits,
    /// which is what scripts that run redis-server --daemonize yes expect.
    /// </summary>
    private static int Daemonize(string[] args)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" </dev/null >/dev/null 2>&1 &");
        start.ArgumentList.Add("sh");
        var host = Environment.ProcessPath!;
        start.ArgumentList.Add(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ServerVerb).Assembly.Location);
        }
        start.ArgumentList.Add("server");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.ArgumentList.Add("--daemonize");
        start.ArgumentList.Add("no");
        using var shell = Process.Start(start);
        shell?.WaitForExit();
        return shell?.ExitCode ?? 1;
    }
}
