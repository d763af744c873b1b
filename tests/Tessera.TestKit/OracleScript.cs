using System.Text;
using Tessera.Resp;

namespace Tessera.TestKit;

/// <summary>
/// A script of commands for the oracle: one command per line, quoted like redis-cli input. A line may start with
/// a directive: <c>@sort</c> compares array replies as sets, <c>@masked</c> compares with every number masked
/// (replies with times and durations), <c>@skip</c> runs the command without comparing,
/// <c>@raw "bytes"</c> sends raw protocol bytes and compares the reply, <c>@reconnect</c> opens new connections.
/// Other connections: <c>@on N cmd</c> runs a command on connection N (from 1), <c>@block N cmd</c> sends a
/// command expected to block and waits until it has, <c>@read N</c> compares the next reply on connection N (0: the
/// main one, for a push that came after a reply),
/// <c>@messages N</c> compares all messages published to subscriber N so far.
/// Lines starting with '#' are comments.
/// </summary>
public sealed class OracleScript
{
    public sealed record Step(int Line, string Directive, byte[][] Args, string Text);

    public OracleScript(string name, IReadOnlyList<Step> steps)
    {
        Name = name;
        Steps = steps;
    }

    public string Name { get; }

    public IReadOnlyList<Step> Steps { get; }

    public static OracleScript Load(string path) => Parse(Path.GetFileName(path), File.ReadAllLines(path));

    /// <summary>The test project's oracle scripts: the names of the *.redis files in Oracle/ beside it, in order, as xUnit rows.</summary>
    public static IEnumerable<object[]> Bundled()
        => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Oracle"), "*.redis").Order()
            .Select(f => new object[] { Path.GetFileName(f) });

    /// <summary>One of <see cref="Bundled"/>, by its file name.</summary>
    public static OracleScript LoadBundled(string name) => Load(Path.Combine(AppContext.BaseDirectory, "Oracle", name));

    public static OracleScript Parse(string name, IEnumerable<string> lines)
    {
        var steps = new List<Step>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var directive = "";
            if (line[0] == '@')
            {
                var space = line.IndexOf(' ');
                directive = space < 0 ? line : line[..space];
                line = space < 0 ? "" : line[(space + 1)..];
            }
            steps.Add(new Step(number, directive, Split(line, name, number), raw.Trim()));
        }
        return new OracleScript(name, steps);
    }

    /// <summary>Splits a line with Redis's inline quoting rules (\xHH escapes give arbitrary bytes).</summary>
    public static byte[][] Split(string line, string script = "", int number = 0)
    {
        var bytes = Encoding.Latin1.GetBytes(line);
        var scratch = new byte[bytes.Length];
        var request = new Request();
        if (!InlineSplitter.Split(bytes, scratch, request))
        {
            throw new FormatException($"{script}:{number}: unbalanced quotes");
        }
        request.Bind(scratch, 0);
        var args = new byte[request.Count][];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = request.ToArray(i);
        }
        return args;
    }

    public override string ToString() => Name;
}
