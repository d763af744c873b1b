using System.Net.Sockets;
using System.Text;

namespace Tessera.TestKit;

/// <summary>
/// A small blocking RESP client for tests: sends commands as arrays of bulk strings (or raw bytes) and reads
/// whole replies back, either as raw bytes (for byte-for-byte comparison) or as a parsed <see cref="RespValue"/>.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public RespClient(int port, string host = "127.0.0.1", int timeoutMs = 10000)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(host, port);
        _socket.ReceiveTimeout = timeoutMs;
        _socket.SendTimeout = timeoutMs;
    }

    public Socket Socket => _socket;

    /// <summary>Encodes a command as a RESP array of bulk strings.</summary>
    public static byte[] Encode(params string[] args) => Encode(args.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Encodes a command given as byte arguments.</summary>
    public static byte[] Encode(byte[][] args)
    {
        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes($"*{args.Length}\r\n"));
        foreach (var arg in args)
        {
            output.Write(Encoding.ASCII.GetBytes($"${arg.Length}\r\n"));
            output.Write(arg);
            output.Write("\r\n"u8);
        }
        return output.ToArray();
    }

    public void SendRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[_socket.Send(bytes)..];
        }
    }

    public void Send(params string[] args) => SendRaw(Encode(args));

    public void Send(byte[][] args) => SendRaw(Encode(args));

    /// <summary>Sends a command and returns its reply as raw bytes.</summary>
    public byte[] CallRaw(params string[] args)
    {
        Send(args);
        return ReadRaw();
    }

    /// <summary>Sends a command and returns its parsed reply.</summary>
    /// <summary>Sends a command and returns the payload of its bulk string reply (DUMP payloads and other binary data).</summary>
    public byte[] CallBulk(params string[] args)
    {
        var reply = CallRaw(args);
        return reply[0] == (byte)'$' ? reply[(Array.IndexOf(reply, (byte)'\n') + 1)..^2] : throw new InvalidOperationException("not a bulk reply: " + Encoding.Latin1.GetString(reply));
    }

    /// <summary>Sends a command of raw arguments and reads its reply.</summary>
    public RespValue Call(byte[][] args)
    {
        Send(args);
        return Read();
    }

    public RespValue Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>A numeric INFO field, such as <c>InfoField("persistence", "rdb_saves")</c>.</summary>
    public long InfoField(string section, string field)
        => long.Parse(System.Text.RegularExpressions.Regex.Match(Call("INFO", section).Text!, "\n" + field + @":(-?\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Polls an INFO field until it has <paramref name="value"/>; false after <paramref name="timeoutMs"/>.</summary>
    public bool WaitForInfo(string section, string field, long value, int timeoutMs = 30000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (InfoField(section, field) != value)
        {
            if (clock.ElapsedMilliseconds > timeoutMs)
            {
                return false;
            }
            Thread.Sleep(10);
        }
        return true;
    }

    /// <summary>Repeats a command until its reply contains <paramref name="text"/>; false after <paramref name="timeoutMs"/>.</summary>
    public bool WaitForText(string command, string argument, string text, int timeoutMs = 30000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Call(command, argument).Text?.Contains(text, StringComparison.Ordinal) != true)
        {
            if (clock.ElapsedMilliseconds > timeoutMs)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Reads one complete reply as raw bytes.</summary>
    public byte[] ReadRaw()
    {
        if (_start > 0)
        {
            // Compact between replies only, so positions inside a reply never move.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var position = 0;
        SkipOne(ref position);
        _start = position;
        return _buffer.AsSpan(0, position).ToArray();
    }

    /// <summary>Reads one reply and parses it.</summary>
    public RespValue Read() => RespValue.Parse(ReadRaw());

    /// <summary>
    /// Sends PING and returns every reply that arrives before its answer (messages already published to a
    /// subscriber), concatenated: the PING answer marks where the messages sent so far end.
    /// </summary>
    public byte[] ReadUntilPong()
    {
        Send("PING");
        var messages = new List<byte>();
        while (true)
        {
            var reply = ReadRaw();
            if (reply.AsSpan().SequenceEqual("+PONG\r\n"u8) || reply.AsSpan().SequenceEqual("*2\r\n$4\r\npong\r\n$0\r\n\r\n"u8))
            {
                return [.. messages];
            }
            messages.AddRange(reply);
        }
    }

    /// <summary>True when the server closed the connection (reads until EOF or timeout).</summary>
    public bool IsClosedByServer(int timeoutMs = 5000)
    {
        _socket.ReceiveTimeout = timeoutMs;
        try
        {
            var scratch = new byte[4096];
            while (true)
            {
                var n = _socket.Receive(scratch);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();

    private void SkipOne(ref int position)
    {
        var line = ReadLine(ref position);
        var type = (char)line[0];
        var header = Encoding.ASCII.GetString(line, 1, line.Length - 1);
        switch (type)
        {
            case '$':
            case '=':
            case '!':
                var length = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                if (length >= 0)
                {
                    Ensure(position + length + 2);
                    position += length + 2;
                }
                break;
            case '*':
            case '~':
            case '>':
                var count = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                for (var i = 0; i < count; i++)
                {
                    SkipOne(ref position);
                }
                break;
            case '%':
            case '|':
                var pairs = int.Parse(header, System.Globalization.CultureInfo.InvariantCulture);
                for (var i = 0; i < pairs * 2; i++)
                {
                    SkipOne(ref position);
                }
                if (type == '|')
                {
                    // An attribute annotates the reply that follows it: together they are one reply.
                    SkipOne(ref position);
                }
                break;
        }
    }

    private byte[] ReadLine(ref int position)
    {
        while (true)
        {
            var index = _buffer.AsSpan(position, _end - position).IndexOf("\r\n"u8);
            if (index >= 0)
            {
                var line = _buffer.AsSpan(position, index).ToArray();
                position += index + 2;
                return line;
            }
            Fill();
        }
    }

    private void Ensure(int end)
    {
        while (_end < end)
        {
            Fill();
        }
    }

    /// <summary>Receives more bytes, growing the buffer when it is full.</summary>
    private void Fill()
    {
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0)
        {
            throw new IOException("connection closed by the server");
        }
        _end += n;
    }
}
