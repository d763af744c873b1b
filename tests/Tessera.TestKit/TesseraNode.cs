using Tessera.Server;

namespace Tessera.TestKit;

/// <summary>A Tessera node running in this process on a free loopback port, for one test or fixture.</summary>
public sealed class TesseraNode : IDisposable
{
    private readonly TesseraServer _server;

    /// <summary>Starts a node with redis-server style options (port and bind are chosen here).</summary>
    public TesseraNode(params string[] options)
    {
        var arguments = new List<string> { "--port", "0", "--bind", "127.0.0.1", "--save", "" };
        arguments.AddRange(options);
        _server = new TesseraServer(ServerOptions.Load(null, arguments));
        _server.Start();
        Port = _server.Port;
    }

    public int Port { get; }

    public TesseraServer Server => _server;

    public RespClient Connect() => new(Port);

    public void Dispose() => _server.Dispose();
}
