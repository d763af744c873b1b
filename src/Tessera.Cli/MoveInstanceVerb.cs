using System.CommandLine;
using Tessera.Cli.Operations;
using Tessera.Client;

namespace Tessera.Cli;

/// <summary>
/// <c>tessera move-instance --from host:port --to host:port</c>: moves an instance (Redis or Tessera) to another
/// server through replication with a write pause of milliseconds, and reports the pause.
/// </summary>
internal static class MoveInstanceVerb
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The instance to move (a master), host:port", Required = true };
        var to = new Option<string>("--to") { Description = "The new, empty instance, host:port", Required = true };
        var password = new Option<string?>("--password", "-a") { Description = "Password of both instances" };
        var maxPause = new Option<int>("--max-pause") { Description = "Longest write pause allowed, in milliseconds", DefaultValueFactory = _ => 10_000 };
        var command = new Command("move-instance", "Move an instance to another server through replication: sync, pause writes, promote, report the pause.");
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(password);
        command.Options.Add(maxPause);
        command.SetAction(result =>
        {
            try
            {
                using var source = Connect(result.GetValue(from)!, result.GetValue(password));
                using var target = Connect(result.GetValue(to)!, result.GetValue(password));
                var move = new InstanceMove(source, target, Console.Out)
                {
                    Password = result.GetValue(password),
                    MaxPause = TimeSpan.FromMilliseconds(result.GetValue(maxPause)),
                };
                var report = move.Run();
                Console.WriteLine($"Moved {report.Keys} keys; writes were paused for {report.WritePause.TotalMilliseconds:F1} ms.");
                return 0;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or RedisErrorException or InvalidOperationException or TimeoutException or FormatException)
            {
                Console.Error.WriteLine("move-instance: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static RedisConnection Connect(string endpoint, string? password)
    {
        var (host, port) = RedisConnection.ParseEndpoint(endpoint);
        var connection = RedisConnection.Connect(host, port, TimeSpan.FromSeconds(10));
        if (password is not null)
        {
            connection.Execute("AUTH", password);
        }
        return connection;
    }
}
