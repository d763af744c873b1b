using System.CommandLine;
using System.Runtime.InteropServices;
using Tessera.Proxy;
using Tessera.Proxy.Config;
using Tessera.Proxy.Stats;

namespace Tessera.Cli;

/// <summary>
/// <c>tessera proxy -c nutcracker.yml</c>: the partitioning proxy, with nutcracker's options (-c, -s, -a, -i, -t,
/// -o). SIGHUP reloads the configuration; SIGINT/SIGTERM stop it.
/// </summary>
internal static class ProxyVerb
{
    public static Command Create()
    {
        var conf = new Option<string>("--conf-file", "-c") { Description = "The nutcracker YAML configuration", DefaultValueFactory = _ => "conf/nutcracker.yml" };
        var statsPort = new Option<int>("--stats-port", "-s") { Description = "Port of the JSON stats", DefaultValueFactory = _ => 22222 };
        var statsAddr = new Option<string>("--stats-addr", "-a") { Description = "Address of the JSON stats", DefaultValueFactory = _ => "0.0.0.0" };
        var statsInterval = new Option<int>("--stats-interval", "-i") { Description = "Stats aggregation interval in ms (accepted for compatibility: stats are live)", DefaultValueFactory = _ => 30000 };
        var test = new Option<bool>("--test-conf", "-t") { Description = "Check the configuration and exit" };
        var output = new Option<string?>("--output", "-o") { Description = "Log file (default: standard error)" };
        var threads = new Option<int>("--threads") { Description = "Event loops (default: one per core)" };
        var command = new Command("proxy", "Run the partitioning proxy on a nutcracker (twemproxy) configuration.");
        command.Options.Add(conf);
        command.Options.Add(statsPort);
        command.Options.Add(statsAddr);
        command.Options.Add(statsInterval);
        command.Options.Add(test);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.SetAction(result =>
        {
            var path = result.GetValue(conf)!;
            if (result.GetValue(output) is { } logFile)
            {
                ProxyLog.Output = new StreamWriter(logFile, append: true);
            }
            try
            {
                var pools = NutcrackerConfig.Load(path);
                if (result.GetValue(test))
                {
                    Console.WriteLine($"tessera proxy: configuration file '{path}' syntax is ok ({pools.Count} pools)");
                    return 0;
                }
                return Run(path, result.GetValue(threads), result.GetValue(statsAddr)!, result.GetValue(statsPort));
            }
            catch (ProxyConfigException e)
            {
                Console.Error.WriteLine($"tessera proxy: configuration file '{path}' syntax is invalid: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Run(string path, int threads, string statsAddress, int statsPort)
    {
        using var proxy = new ProxyServer(path, threads);
        try
        {
            proxy.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Console.Error.WriteLine($"tessera proxy: cannot listen: {e.Message}");
            return 1;
        }
        using var stats = new StatsServer(proxy, statsAddress, statsPort);
        ProxyLog.Notice($"tessera proxy started (pid {Environment.ProcessId}), stats on {statsAddress}:{stats.Port}");
        using var stop = new ManualResetEventSlim();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }
        SignalDisposition.HeedHangup();
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            proxy.TryReload(out _);
        });
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        stop.Wait();
        ProxyLog.Notice("tessera proxy stopping");
        return 0;
    }
}
