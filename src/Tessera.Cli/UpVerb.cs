using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Tessera.Cli.Operations;
using Tessera.Client;
using Tessera.Proxy;
using Tessera.Proxy.Config;
using Tessera.Server;
using Tessera.Server.Logging;

namespace Tessera.Cli;

/// <summary>
/// <c>tessera up</c>: a whole local cluster in one process — 3 masters and 3 replicas on loopback ports, data and
/// logs under one folder — formed on first start and rejoined from its nodes.conf files afterwards — and a proxy in
/// front of it for cluster-unaware clients. Ctrl-C stops it.
/// </summary>
internal static class UpVerb
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "First port; the nodes use it and the next ones", DefaultValueFactory = _ => 7000 };
        var dir = new Option<string>("--dir") { Description = "Folder for the nodes' data and logs", DefaultValueFactory = _ => "tessera-cluster" };
        var masters = new Option<int>("--masters") { Description = "Number of masters", DefaultValueFactory = _ => 3 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas per master", DefaultValueFactory = _ => 1 };
        var proxyPort = new Option<int>("--proxy-port") { Description = "Port of a proxy in front of the cluster for cluster-unaware clients (0: none)", DefaultValueFactory = _ => 7100 };
        var command = new Command("up", "Start a local cluster (3 masters + 3 replicas) on loopback ports and keep it running.");
        command.Options.Add(port);
        command.Options.Add(dir);
        command.Options.Add(masters);
        command.Options.Add(replicas);
        command.Options.Add(proxyPort);
        command.SetAction(result => Run(result.GetValue(port), Path.GetFullPath(result.GetValue(dir)!), result.GetValue(masters), result.GetValue(replicas), result.GetValue(proxyPort)));
        return command;
    }

    private static int Run(int firstPort, string folder, int masters, int replicas, int proxyPort)
    {
        var count = masters * (replicas + 1);
        var servers = new List<TesseraServer>();
        var loggers = new List<ILoggerFactory>();
        ProxyServer? proxy = null;
        using var stopped = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stopped.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stopped.Set(); });
        try
        {
            for (var i = 0; i < count; i++)
            {
                var port = (firstPort + i).ToString(CultureInfo.InvariantCulture);
                var dir = Path.Combine(folder, port);
                Directory.CreateDirectory(dir);
                var options = ServerOptions.Load(null, ["--port", port, "--bind", "127.0.0.1", "--dir", dir, "--cluster-enabled", "yes",
                    "--appendonly", "yes", "--repl-diskless-sync-delay", "0"]);
                var log = new StreamWriter(new FileStream(Path.Combine(dir, "node.log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
                var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new RedisLogFormat(log, () => LogLevel.Information)));
                loggers.Add(loggerFactory);
                var server = Tessera.Cluster.TesseraHost.Create(options, loggerFactory);
                servers.Add(server);
                server.Start();
            }
            var nodes = servers.Select(s => RedisConnection.Connect("127.0.0.1", s.Port, TimeSpan.FromSeconds(10))).ToList();
            try
            {
                if (ClusterCreate.Formed(nodes))
                {
                    Console.WriteLine($"Rejoining the cluster kept in {folder} ...");
                    Polling.WaitFor(() => nodes.All(n => n.ClusterInfo("cluster_state") == "ok"),
                        TimeSpan.FromSeconds(60), "the cluster did not come back to cluster_state:ok", TimeSpan.FromMilliseconds(50));
                }
                else
                {
                    ClusterCreate.Run(nodes, replicas, Console.Out, TimeSpan.FromSeconds(60));
                }
            }
            finally
            {
                nodes.ForEach(n => n.Dispose());
            }
            Console.WriteLine($"Cluster up: {string.Join(' ', servers.Select(s => "127.0.0.1:" + s.Port.ToString(CultureInfo.InvariantCulture)))}");
            Console.WriteLine($"Data and logs: {folder}");
            Console.WriteLine($"Try: redis-cli -c -p {firstPort.ToString(CultureInfo.InvariantCulture)}");
            if (proxyPort > 0)
            {
                proxy = StartProxy(folder, proxyPort, servers.Take(masters).Select(s => s.Port));
                Console.WriteLine($"Proxy for cluster-unaware clients: redis-cli -p {proxyPort.ToString(CultureInfo.InvariantCulture)}");
            }
            Console.WriteLine("Ctrl-C stops every node.");
            Console.Out.Flush();
            stopped.Wait();
            return 0;
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or RedisErrorException or System.Net.Sockets.SocketException or ConfigurationException or ProxyConfigException)
        {
            Console.Error.WriteLine("up: " + e.Message);
            return 1;
        }
        finally
        {
            proxy?.Dispose();
            foreach (var server in servers)
            {
                server.Dispose();
            }
            loggers.ForEach(l => l.Dispose());
        }
    }

    /// <summary>A proxy pool fronting the cluster (its config kept in the folder, its log in proxy.log there).</summary>
    private static ProxyServer StartProxy(string folder, int port, IEnumerable<int> seeds)
    {
        var config = Path.Combine(folder, "proxy.yml");
        File.WriteAllText(config, $"cluster:\n  listen: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}\n  redis: true\n"
            + $"  cluster: {string.Join(',', seeds.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)))}\n");
        ProxyLog.Output = new StreamWriter(new FileStream(Path.Combine(folder, "proxy.log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var proxy = new ProxyServer(config);
        proxy.Start();
        return proxy;
    }
}
