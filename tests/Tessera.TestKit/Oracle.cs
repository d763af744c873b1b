using System.Text;

namespace Tessera.TestKit;

/// <summary>
/// Runs the same commands against redis-server and Tessera over one connection each and requires byte-for-byte
/// identical replies. A mismatch throws with the command and both replies, escaped. Scripts may use more
/// connections (numbered from 1) to test blocking commands and other clients' effects.
/// </summary>
public sealed class Oracle(int redisPort, int tesseraPort) : IDisposable
{
    private RespClient _redis = new(redisPort);
    private RespClient _tessera = new(tesseraPort);
    private readonly Dictionary<int, (RespClient Redis, RespClient Tessera)> _others = [];

    /// <summary>Runs every step of <paramref name="script"/> on clean databases.</summary>
    public void Run(OracleScript script)
    {
        Reconnect();
        foreach (var step in script.Steps)
        {
            switch (step.Directive)
            {
                case "@reconnect":
                    Reconnect();
                    continue;
                case "@raw":
                    var bytes = step.Args[0];
                    _redis.SendRaw(bytes);
                    _tessera.SendRaw(bytes);
                    Compare(script, step, _redis.ReadRaw(), _tessera.ReadRaw(), sort: false);
                    continue;
                case "@on":
                    var (redis, tessera) = Connection(step.Args[0]);
                    Compare(script, step, Call(redis, step.Args[1..]), Call(tessera, step.Args[1..]), sort: false);
                    continue;
                case "@block":
                    var waiting = Connection(step.Args[0]);
                    waiting.Redis.Send(step.Args[1..]);
                    waiting.Tessera.Send(step.Args[1..]);
                    WaitUntilBlocked(script, step, _redis, waiting.Redis);
                    WaitUntilBlocked(script, step, _tessera, waiting.Tessera);
                    continue;
                case "@messages":
                    var subscriber = Connection(step.Args[0]);
                    Compare(script, step, subscriber.Redis.ReadUntilPong(), subscriber.Tessera.ReadUntilPong(), sort: false);
                    continue;
                case "@read":
                    var reader = Connection(step.Args[0]);
                    Compare(script, step, reader.Redis.ReadRaw(), reader.Tessera.ReadRaw(), sort: false);
                    continue;
            }
            var expected = Call(_redis, step.Args);
            var actual = Call(_tessera, step.Args);
            if (step.Directive != "@skip")
            {
                Compare(script, step, expected, actual, sort: step.Directive == "@sort", masked: step.Directive == "@masked");
            }
        }
    }

    /// <summary>Sends one command (each char one byte, Latin-1) to both servers and compares the replies; returns Tessera's.</summary>
    public byte[] Check(params string[] args)
    {
        var encoded = args.Select(Encoding.Latin1.GetBytes).ToArray();
        var expected = Call(_redis, encoded);
        var actual = Call(_tessera, encoded);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            throw new OracleMismatchException($"{string.Join(' ', args)}\n  redis:   {Escape(expected)}\n  tessera: {Escape(actual)}");
        }
        return actual;
    }

    public void Dispose()
    {
        _redis.Dispose();
        _tessera.Dispose();
        CloseOthers();
    }

    /// <summary>Fresh connections to both servers, with all data flushed.</summary>
    public void Reconnect()
    {
        _redis.Dispose();
        _tessera.Dispose();
        CloseOthers();
        _redis = new RespClient(redisPort);
        _tessera = new RespClient(tesseraPort);
        _redis.Call("FLUSHALL");
        _tessera.Call("FLUSHALL");
    }

    /// <summary>Extra connection <paramref name="number"/> (an argument like "1"), opened on first use; 0 is the main one.</summary>
    private (RespClient Redis, RespClient Tessera) Connection(byte[] number)
    {
        var n = int.Parse(Encoding.ASCII.GetString(number), System.Globalization.CultureInfo.InvariantCulture);
        if (n == 0)
        {
            return (_redis, _tessera);
        }
        if (!_others.TryGetValue(n, out var pair))
        {
            pair = (new RespClient(redisPort), new RespClient(tesseraPort));
            _others[n] = pair;
        }
        return pair;
    }

    private void CloseOthers()
    {
        foreach (var (redis, tessera) in _others.Values)
        {
            redis.Dispose();
            tessera.Dispose();
        }
        _others.Clear();
    }

    /// <summary>
    /// Polls CLIENT LIST over <paramref name="observer"/> until the last client connected to that server shows
    /// the blocked flag, so the next step runs after the blocking command was processed.
    /// </summary>
    private static void WaitUntilBlocked(OracleScript script, OracleScript.Step step, RespClient observer, RespClient blocked)
    {
        var port = ((System.Net.IPEndPoint)blocked.Socket.LocalEndPoint!).Port;
        var address = $"addr=127.0.0.1:{port} ";
        var deadline = Environment.TickCount64 + 5000;
        while (Environment.TickCount64 < deadline)
        {
            var line = Encoding.UTF8.GetString(Call(observer, [Encoding.ASCII.GetBytes("CLIENT"), Encoding.ASCII.GetBytes("LIST")]))
                .Split('\n').FirstOrDefault(l => l.Contains(address, StringComparison.Ordinal));
            if (line is not null && System.Text.RegularExpressions.Regex.IsMatch(line, @" flags=[A-Za-z]*b"))
            {
                return;
            }
            Thread.Sleep(5);
        }
        throw new OracleMismatchException($"{script.Name}:{step.Line}: {step.Text}\n  the client did not block");
    }

    private static byte[] Call(RespClient client, byte[][] args)
    {
        client.Send(args);
        return client.ReadRaw();
    }

    private static void Compare(OracleScript script, OracleScript.Step step, byte[] expected, byte[] actual, bool sort, bool masked = false)
    {
        var same = sort ? Sorted(expected).SequenceEqual(Sorted(actual))
            : masked ? Masked(expected) == Masked(actual)
            : expected.AsSpan().SequenceEqual(actual);
        if (!same)
        {
            throw new OracleMismatchException(
                $"{script.Name}:{step.Line}: {step.Text}\n  redis:   {Escape(expected)}\n  tessera: {Escape(actual)}");
        }
    }

    /// <summary>
    /// A reply with every run of digits (lengths included) replaced by one '0', for replies that carry times and
    /// durations: the words and the shape must still match.
    /// </summary>
    private static string Masked(byte[] reply) =>
        System.Text.RegularExpressions.Regex.Replace(Encoding.Latin1.GetString(reply), "[0-9]+", "0");

    /// <summary>An array reply's elements in order, for comparison as a set.</summary>
    private static IEnumerable<string> Sorted(byte[] reply)
    {
        var value = RespValue.Parse(reply);
        return value.Items.Count == 0 ? [Escape(reply)] : value.Items.Select(i => i.ToString()).Order(StringComparer.Ordinal);
    }

    /// <summary>Reply bytes with CR, LF and non-printable bytes escaped, for messages.</summary>
    public static string Escape(byte[] bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Take(2000))
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                _ when b < 32 || b > 126 => $"\\x{b:x2}",
                _ => ((char)b).ToString(),
            });
        }
        return bytes.Length > 2000 ? text + $"... ({bytes.Length} bytes)" : text.ToString();
    }
}

/// <summary>Tessera and redis-server answered differently.</summary>
public sealed class OracleMismatchException(string message) : Exception(message);
