using System.Text;
using Tessera.Server;
using Tessera.Server.Sessions;

namespace Tessera.Benchmarks;

/// <summary>A node with one client session and no socket: requests go in as bytes, replies are read and dropped.</summary>
internal sealed class BenchSession : IDisposable
{
    private readonly TesseraServer _server = new(ServerOptions.Load(null, ["--port", "0", "--save", ""]));
    private readonly ClientSession _session;

    public BenchSession() => _session = _server.Clients.Register(null, "bench:0", "bench:0", unix: false);

    /// <summary>Parses, runs and replies to every command in <paramref name="request"/>; returns the reply length.</summary>
    public long Run(byte[] request)
    {
        _session.Receive(request);
        _session.ProcessInput();
        var length = _session.Output.Length;
        _session.Output.Consume(length);
        return length;
    }

    /// <summary>One command as a RESP multibulk request.</summary>
    public static byte[] Command(params IReadOnlyList<string> args)
    {
        var text = new StringBuilder().Append('*').Append(args.Count).Append("\r\n");
        foreach (var arg in args)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public void Dispose() => _server.Dispose();
}
