using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Tessera.Resp;

namespace Tessera.Client;

/// <summary>The server answered a command with an error reply.</summary>
public sealed class RedisErrorException(string message) : Exception(message);

/// <summary>
/// A blocking connection to one Redis-protocol server: commands go out as arrays of bulk strings, replies come
/// back parsed. Meant for operations tools, which issue a few commands at a time; not thread-safe.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly BufferedStream _input;
    private readonly RespWriter _output = new();

    private RedisConnection(Socket socket, string endpoint)
    {
        _socket = socket;
        _input = new BufferedStream(new NetworkStream(socket, ownsSocket: false), 1 << 16);
        Endpoint = endpoint;
    }

    /// <summary>"host:port" as given to <see cref="Connect"/>.</summary>
    public string Endpoint { get; }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>; replies slower than <paramref name="timeout"/> fail.</summary>
    public static RedisConnection Connect(string host, int port, TimeSpan timeout)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (!socket.ConnectAsync(host, port).Wait(timeout))
            {
                throw new TimeoutException($"{host}:{port}: no connection within {timeout.TotalMilliseconds} ms");
            }
            socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
            return new RedisConnection(socket, host + ":" + port.ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Splits "host:port" (the last colon separates them, so IPv6 hosts work).</summary>
    public static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new FormatException($"'{endpoint}' is not host:port");
        }
        return (endpoint[..colon].Trim('[', ']'), port);
    }

    /// <summary>Sends a command and returns its reply, error replies included.</summary>
    public RedisReply Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends a command and returns its reply; an error reply throws <see cref="RedisErrorException"/>.</summary>
    public RedisReply Execute(params string[] args)
    {
        var reply = Call(args);
        return reply.IsError ? throw new RedisErrorException($"{Endpoint}: {string.Join(' ', args)}: {reply.Text}") : reply;
    }

    /// <summary>One field of INFO (section given), or null when the server does not report it.</summary>
    public string? Info(string section, string field) => FieldOf(Execute("INFO", section).Text!, field);

    /// <summary>One field of CLUSTER INFO, or null when the server does not report it.</summary>
    public string? ClusterInfo(string field) => FieldOf(Execute("CLUSTER", "INFO").Text!, field);

    /// <summary>The value of "field:value" among the CRLF-separated lines of INFO-style text, or null.</summary>
    private static string? FieldOf(string text, string field)
    {
        foreach (var line in text.Split("\r\n"))
        {
            if (line.Length > field.Length && line[field.Length] == ':' && line.StartsWith(field, StringComparison.Ordinal))
            {
                return line[(field.Length + 1)..];
            }
        }
        return null;
    }

    /// <summary>A numeric INFO field, or -1 when it is missing.</summary>
    public long InfoNumber(string section, string field)
        => long.TryParse(Info(section, field), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : -1;

    private void Send(string[] args)
    {
        _output.WriteArrayHeader(args.Length);
        foreach (var arg in args)
        {
            _output.WriteBulk(Encoding.UTF8.GetBytes(arg));
        }
        Flush();
    }

    /// <summary>Adds a command of binary arguments to the output; <see cref="Flush"/> sends every command queued.</summary>
    public void Queue(params ReadOnlySpan<byte[]> args)
    {
        _output.WriteArrayHeader(args.Length);
        foreach (var arg in args)
        {
            _output.WriteBulk(arg);
        }
    }

    /// <summary>Sends the queued commands; their replies are then read in order with <see cref="Read"/>.</summary>
    public void Flush()
    {
        var bytes = new byte[_output.Length];
        _output.CopyTo(bytes);
        _output.Clear();
        _socket.Send(bytes);
    }

    /// <summary>Reads the next reply.</summary>
    public RedisReply Read()
    {
        var line = ReadLine();
        if (line.Length == 0)
        {
            throw new InvalidDataException($"{Endpoint}: empty reply line");
        }
        var body = line[1..];
        switch ((char)line[0])
        {
            case '+':
                return RedisReply.Line(ReplyKind.Status, body);
            case '-':
                return RedisReply.Line(ReplyKind.Error, body);
            case ':':
                return RedisReply.FromInteger(Number(body));
            case '$':
                var length = Number(body);
                if (length < 0)
                {
                    return RedisReply.Nil;
                }
                var bytes = new byte[length + 2];
                _input.ReadExactly(bytes);
                return RedisReply.Line(ReplyKind.Bulk, bytes[..^2]);
            case '*':
                var count = Number(body);
                if (count < 0)
                {
                    return RedisReply.Nil;
                }
                var items = new RedisReply[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = Read();
                }
                return RedisReply.FromArray(items);
            default:
                throw new InvalidDataException($"{Endpoint}: unexpected reply '{Encoding.Latin1.GetString(line)}'");
        }
    }

    private long Number(byte[] text)
        => RedisInteger.TryParse(text, out var value) ? value : throw new InvalidDataException($"{Endpoint}: bad number '{Encoding.Latin1.GetString(text)}'");

    private byte[] ReadLine()
    {
        var line = new List<byte>(32);
        while (true)
        {
            var b = _input.ReadByte();
            if (b < 0)
            {
                throw new IOException($"{Endpoint}: connection closed");
            }
            if (b == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                line.RemoveAt(line.Count - 1);
                return [.. line];
            }
            line.Add((byte)b);
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        _socket.Dispose();
    }
}
