using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Tessera.Resp.Tests;

public class RequestParserProperties
{
    private static byte[] Encode(byte[][] args)
    {
        var output = new MemoryStream();
        output.Write(System.Text.Encoding.ASCII.GetBytes($"*{args.Length}\r\n"));
        foreach (var arg in args)
        {
            output.Write(System.Text.Encoding.ASCII.GetBytes($"${arg.Length}\r\n"));
            output.Write(arg);
            output.Write("\r\n"u8);
        }
        return output.ToArray();
    }

    /// <summary>Parses <paramref name="bytes"/> fed in chunks of the given sizes, as a connection would receive them.</summary>
    private static List<byte[][]> ParseInChunks(byte[] bytes, int[] chunkSizes)
    {
        var parser = new RequestParser();
        var request = new Request();
        var buffer = new byte[bytes.Length];
        var received = 0;
        var start = 0;
        var commands = new List<byte[][]>();
        var chunk = 0;
        while (received < bytes.Length)
        {
            var size = Math.Max(1, chunkSizes.Length == 0 ? bytes.Length : chunkSizes[chunk++ % chunkSizes.Length]);
            var n = Math.Min(size, bytes.Length - received);
            Array.Copy(bytes, received, buffer, received, n);
            received += n;
            while (true)
            {
                var status = parser.Parse(buffer, start, received, request, out var consumed);
                if (status != ParseStatus.Complete)
                {
                    Assert.NotEqual(ParseStatus.Error, status);
                    break;
                }
                commands.Add([.. Enumerable.Range(0, request.Count).Select(request.ToArray)]);
                start += consumed;
            }
        }
        return commands;
    }

    [Fact]
    public void Any_pipeline_of_commands_parses_back_to_the_same_arguments_however_it_is_split()
    {
        var arg = ArbMap.Default.GeneratorFor<byte[]>();
        var command = Gen.NonEmptyListOf(arg).Select(list => list.ToArray());
        var pipeline = Gen.NonEmptyListOf(command).Select(list => list.ToArray());
        var chunks = Gen.ListOf(Gen.Choose(1, 64)).Select(list => list.ToArray());
        Prop.ForAll(pipeline.ToArbitrary(), chunks.ToArbitrary(), (commands, sizes) =>
        {
            var bytes = commands.SelectMany(Encode).ToArray();
            var parsed = ParseInChunks(bytes, sizes);
            return parsed.Count == commands.Length
                && parsed.Zip(commands).All(p => p.First.Length == p.Second.Length
                    && p.First.Zip(p.Second).All(a => a.First.AsSpan().SequenceEqual(a.Second)));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Random_bytes_never_throw_and_parse_the_same_at_once_or_byte_by_byte()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var whole = Outcome(bytes, [bytes.Length + 1]);
            var trickled = Outcome(bytes, [1]);
            return whole == trickled;
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>The commands read and the final status, as text, for comparing two ways of feeding the same bytes.</summary>
    internal static string Outcome(byte[] bytes, int[] chunkSizes)
    {
        var parser = new RequestParser();
        var request = new Request();
        var buffer = new byte[bytes.Length];
        var received = 0;
        var start = 0;
        var log = new System.Text.StringBuilder();
        var chunk = 0;
        while (received < bytes.Length)
        {
            var n = Math.Min(Math.Max(1, chunkSizes[chunk++ % chunkSizes.Length]), bytes.Length - received);
            Array.Copy(bytes, received, buffer, received, n);
            received += n;
            while (start < received)
            {
                var status = parser.Parse(buffer, start, received, request, out var consumed);
                if (status == ParseStatus.Error)
                {
                    return log + "error:" + parser.Error;
                }
                if (status == ParseStatus.Incomplete)
                {
                    break;
                }
                if (status == ParseStatus.Complete)
                {
                    log.Append(request.Count).Append(';');
                }
                start += consumed;
            }
        }
        return log.ToString();
    }
}
