using System.CommandLine;
using Tessera.Cli.Operations;
using Tessera.Client;

namespace Tessera.Cli;

/// <summary>
/// <c>tessera cluster create|check|fix|info|reshard|rebalance|add-node|del-node</c>: the cluster administration
/// redis-cli --cluster offers, against
/// Tessera or redis-server nodes alike. Exit code 0 when the operation succeeded (check: when nothing is wrong).
/// </summary>
internal static class ClusterVerb
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var command = new Command("cluster", "Administer a cluster: create, check, fix, info, reshard, rebalance, add-node, del-node.");
        command.Subcommands.Add(CreateCommand());
        command.Subcommands.Add(CheckCommand());
        command.Subcommands.Add(FixCommand());
        command.Subcommands.Add(InfoCommand());
        command.Subcommands.Add(ReshardCommand());
        command.Subcommands.Add(RebalanceCommand());
        command.Subcommands.Add(AddNodeCommand());
        command.Subcommands.Add(DelNodeCommand());
        return command;
    }

    private static Command CreateCommand()
    {
        var nodes = new Argument<string[]>("nodes") { Description = "host:port of each empty node, masters first", Arity = ArgumentArity.OneOrMore };
        var replicas = new Option<int>("--replicas") { Description = "Replicas per master", DefaultValueFactory = _ => 0 };
        var command = new Command("create", "Form a cluster from empty nodes: slots shared by the masters, the rest their replicas.");
        command.Arguments.Add(nodes);
        command.Options.Add(replicas);
        command.SetAction(result => Guarded("create", () =>
        {
            var connections = result.GetValue(nodes)!.Select(Connect).ToList();
            try
            {
                ClusterCreate.Run(connections, result.GetValue(replicas), Console.Out, Timeout);
            }
            finally
            {
                connections.ForEach(c => c.Dispose());
            }
            Console.WriteLine("[OK] All 16384 slots covered; cluster_state:ok on every node.");
            return 0;
        }));
        return command;
    }

    private static Command CheckCommand() => SeedCommand("check", "Check that all nodes agree, every slot is served, none is left open and no node fails.", cluster =>
    {
        var problems = ClusterCheck.Run(cluster, Console.Out);
        Console.WriteLine(problems == 0 ? "The cluster is healthy." : $"{problems} problem(s) found.");
        return problems == 0 ? 0 : 1;
    });

    private static Command FixCommand() => SeedCommand("fix", "Finish or close slots left open by an interrupted reshard and serve unserved slots.", cluster =>
    {
        var fixer = new ClusterFix(cluster, new ClusterReshard(cluster, Console.Out, Timeout) { Pipeline = 100 }, Console.Out, Timeout);
        var repaired = fixer.Run();
        Console.WriteLine(repaired == 0 ? "Nothing to fix." : $"Repaired {repaired} slot(s); run 'tessera cluster check' to confirm.");
        return 0;
    });

    private static Command InfoCommand() => SeedCommand("info", "Keys, slots and replicas of each master.", cluster =>
    {
        ClusterCheck.Info(cluster, Console.Out, Timeout);
        return 0;
    });

    /// <summary>A subcommand that takes only a node of the cluster and works on the cluster loaded from it.</summary>
    private static Command SeedCommand(string name, string description, Func<ClusterTopology, int> run)
    {
        var seed = SeedArgument();
        var command = new Command(name, description);
        command.Arguments.Add(seed);
        command.SetAction(result => Guarded(name, () =>
        {
            using var cluster = ClusterTopology.Load(result.GetValue(seed)!, Timeout);
            return run(cluster);
        }));
        return command;
    }

    private static Command ReshardCommand()
    {
        var seed = SeedArgument();
        var from = new Option<string>("--from") { Description = "Source node ids (or host:port), comma separated, or 'all'", Required = true };
        var to = new Option<string>("--to") { Description = "Target node id (or host:port)", Required = true };
        var slots = new Option<int>("--slots") { Description = "Number of slots to move", Required = true };
        var pipeline = PipelineOption();
        var replace = new Option<bool>("--replace") { Description = "Overwrite keys that exist on the target" };
        var command = new Command("reshard", "Move slots and their keys to another master while the cluster serves.");
        command.Arguments.Add(seed);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(slots);
        command.Options.Add(pipeline);
        command.Options.Add(replace);
        command.SetAction(result => Guarded("reshard", () =>
        {
            using var cluster = LoadHealthy(result.GetValue(seed)!);
            var target = cluster.Find(result.GetValue(to)!);
            var sources = result.GetValue(from) == "all"
                ? [.. cluster.Masters.Where(m => m.Id != target.Id && m.Slots.Count > 0)]
                : result.GetValue(from)!.Split(',').Select(cluster.Find).ToList();
            if (!target.IsMaster || sources.Any(s => !s.IsMaster || s.Id == target.Id))
            {
                throw new InvalidOperationException("sources and target must be distinct masters");
            }
            var reshard = new ClusterReshard(cluster, Console.Out, Timeout) { Pipeline = result.GetValue(pipeline), Replace = result.GetValue(replace) };
            var report = reshard.Run(target, sources, result.GetValue(slots));
            var seconds = Math.Max(report.Elapsed.TotalSeconds, 0.001);
            Console.WriteLine($"Moved {report.Slots} slots and {report.Keys} keys to {target.Endpoint} in {seconds:F2} s ({report.Keys / seconds:F0} keys/s).");
            return 0;
        }));
        return command;
    }

    private static Command RebalanceCommand()
    {
        var seed = SeedArgument();
        var weights = new Option<string[]>("--weight") { Description = "node=weight (id prefix or host:port); 0 empties a node", AllowMultipleArgumentsPerToken = true };
        var useEmpty = new Option<bool>("--use-empty-masters") { Description = "Give slots to masters that have none" };
        var threshold = new Option<double>("--threshold") { Description = "Percent off its share a master may be", DefaultValueFactory = _ => 2 };
        var pipeline = PipelineOption();
        var command = new Command("rebalance", "Spread the slots over the masters by weight, moving their keys while the cluster serves.");
        command.Arguments.Add(seed);
        command.Options.Add(weights);
        command.Options.Add(useEmpty);
        command.Options.Add(threshold);
        command.Options.Add(pipeline);
        command.SetAction(result => Guarded("rebalance", () =>
        {
            using var cluster = LoadHealthy(result.GetValue(seed)!);
            var given = (result.GetValue(weights) ?? []).Select(w => w.Split('=')).ToDictionary(
                w => w[0], w => w.Length == 2 ? double.Parse(w[1], System.Globalization.CultureInfo.InvariantCulture) : throw new FormatException($"'{string.Join('=', w)}' is not node=weight"));
            var reshard = new ClusterReshard(cluster, Console.Out, Timeout) { Pipeline = result.GetValue(pipeline) };
            var moved = ClusterRebalance.Run(cluster, reshard, given, result.GetValue(useEmpty), result.GetValue(threshold), Console.Out);
            Console.WriteLine($"Rebalanced: {moved} slots moved.");
            return 0;
        }));
        return command;
    }

    private static Command AddNodeCommand()
    {
        var node = new Argument<string>("new-node") { Description = "host:port of the empty node to add" };
        var seed = SeedArgument();
        var replica = new Option<bool>("--replica") { Description = "Add it as a replica (of the master with the fewest, unless --master-id)" };
        var masterId = new Option<string?>("--master-id") { Description = "The master it replicates (implies --replica)" };
        var command = new Command("add-node", "Add an empty node to the cluster, as a master without slots or as a replica.");
        command.Arguments.Add(node);
        command.Arguments.Add(seed);
        command.Options.Add(replica);
        command.Options.Add(masterId);
        command.SetAction(result => Guarded("add-node", () =>
        {
            using var cluster = ClusterTopology.Load(result.GetValue(seed)!, Timeout);
            var master = result.GetValue(masterId);
            ClusterMembership.Add(cluster, result.GetValue(node)!, result.GetValue(replica) || master is not null, master, Console.Out, Timeout);
            return 0;
        }));
        return command;
    }

    private static Command DelNodeCommand()
    {
        var seed = SeedArgument();
        var node = new Argument<string>("node-id") { Description = "Id (or a prefix, or host:port) of the node to remove; it must serve no slots" };
        var command = new Command("del-node", "Remove a node without slots: every other node forgets it, then it is reset.");
        command.Arguments.Add(seed);
        command.Arguments.Add(node);
        command.SetAction(result => Guarded("del-node", () =>
        {
            using var cluster = ClusterTopology.Load(result.GetValue(seed)!, Timeout);
            ClusterMembership.Delete(cluster, result.GetValue(node)!, Console.Out, Timeout);
            return 0;
        }));
        return command;
    }

    /// <summary>Loads the cluster and refuses to go on if check finds anything wrong, as redis-cli does before moving slots.</summary>
    private static ClusterTopology LoadHealthy(string seed)
    {
        var cluster = ClusterTopology.Load(seed, Timeout);
        if (ClusterCheck.Run(cluster, TextWriter.Null) > 0)
        {
            cluster.Dispose();
            throw new InvalidOperationException("the cluster is not healthy; run 'tessera cluster check' first");
        }
        return cluster;
    }

    private static Option<int> PipelineOption() => new("--pipeline") { Description = "Keys per MIGRATE", DefaultValueFactory = _ => 10 };

    private static Argument<string> SeedArgument() => new("node") { Description = "host:port of any node of the cluster" };

    private static RedisConnection Connect(string endpoint)
    {
        var (host, port) = RedisConnection.ParseEndpoint(endpoint);
        return RedisConnection.Connect(host, port, Timeout);
    }

    /// <summary>Runs an operation; what can go wrong talking to nodes becomes a message and exit code 1.</summary>
    private static int Guarded(string name, Func<int> operation)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or RedisErrorException or InvalidOperationException
            or TimeoutException or FormatException or AggregateException)
        {
            Console.Error.WriteLine($"cluster {name}: {e.Message}");
            return 1;
        }
    }
}
