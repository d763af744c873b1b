using Tessera.Server;

namespace Tessera.TestKit;

/// <summary>A Tessera node running in this process on a free loopback port, for one test or fixture.</summary>
public sealed class TesseraNode : IDisposable
{
    private readonly TesseraServer _server;

    /// <summary>
    /// Starts a node with redis-server style options (port and bind are chosen here). Its <c>dir</c> is a new
    /// empty directory unless the options give one, so no node loads another's snapshot.
    /// </summary>
    public TesseraNode(params string[] options)
    {
        Directory = Path.Combine(Path.GetTempPath(), "tessera-node-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        // A cluster node's bus port is its port + 10000: both must be free and valid.
        var cluster = options.Contains("--cluster-enabled");
        var port = cluster ? FreePort.ForCluster().ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
        var arguments = new List<string> { "--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", Directory };
        arguments.AddRange(options);
        _server = Tessera.Cluster.TesseraHost.Create(ServerOptions.Load(null, arguments));
        try
        {
            _server.Start();
        }
        catch
        {
            _server.Dispose();
            throw;
        }
        Port = _server.Port;
    }

    public int Port { get; }

    /// <summary>The working directory created for this node (its snapshot goes here unless options said otherwise).</summary>
    public string Directory { get; }

    public TesseraServer Server => _server;

    public RespClient Connect() => new(Port);

    public void Dispose()
    {
        _server.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
