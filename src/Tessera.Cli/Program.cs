using System.CommandLine;
using Tessera.Cli;

var root = new RootCommand("Tessera: a Redis-compatible, sharded in-memory data system.");
root.Subcommands.Add(ServerVerb.Create());
root.Subcommands.Add(CheckRdbVerb.Create());
root.Subcommands.Add(CheckAofVerb.Create());
root.Subcommands.Add(MoveInstanceVerb.Create());
root.Subcommands.Add(UpVerb.Create());
root.Subcommands.Add(ClusterVerb.Create());
root.Subcommands.Add(ProxyVerb.Create());
return root.Parse(args).Invoke();
