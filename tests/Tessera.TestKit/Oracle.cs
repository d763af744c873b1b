using System.Text;

namespace Tessera.TestKit;

/// <summary>
/// Runs the same commands against redis-server and Tessera over one connection each and requires byte-for-byte
/// identical replies. A mismatch throws with the command and both replies, escaped.
/// </summary>
public sealed class Oracle(int redisPort, int tesseraPort) : IDisposable
{
    private RespClient _redis = new(redisPort);
    private RespClient _tessera = new(tesseraPort);

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
            }
            var expected = Call(_redis, step.Args);
            var actual = Call(_tessera, step.Args);
            if (step.Directive != "@skip")
            {
                Compare(script, step, expected, actual, sort: step.Directive == "@sort");
            }
        }
    }

    /// <summary>Sends one command to both servers and compares the replies; returns Tessera's.</summary>
    public byte[] Check(params string[] args)
    {
        var encoded = args.Select(Encoding.UTF8.GetBytes).ToArray();
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
    }

    /// <summary>Fresh connections to both servers, with all data flushed.</summary>
    public void Reconnect()
    {
        _redis.Dispose();
        _tessera.Dispose();
        _redis = new RespClient(redisPort);
        _tessera = new RespClient(tesseraPort);
        _redis.Call("FLUSHALL");
        _tessera.Call("FLUSHALL");
    }

    private static byte[] Call(RespClient client, byte[][] args)
    {
        client.Send(args);
        return client.ReadRaw();
    }

    private static void Compare(OracleScript script, OracleScript.Step step, byte[] expected, byte[] actual, bool sort)
    {
        var same = sort ? Sorted(expected).SequenceEqual(Sorted(actual)) : expected.AsSpan().SequenceEqual(actual);
        if (!same)
        {
            throw new OracleMismatchException(
                $"{script.Name}:{step.Line}: {step.Text}\n  redis:   {Escape(expected)}\n  tessera: {Escape(actual)}");
        }
    }

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
