using System.Text;
using Xunit;

namespace Tessera.Resp.Tests;

public class RequestParserTests
{
    private static (ParseStatus Status, string[] Args, int Consumed, string? Error) Parse(string input, bool unauthenticated = false)
    {
        var parser = new RequestParser { Unauthenticated = unauthenticated };
        var request = new Request();
        var bytes = Encoding.Latin1.GetBytes(input);
        var status = parser.Parse(bytes, 0, bytes.Length, request, out var consumed);
        var args = status == ParseStatus.Complete
            ? Enumerable.Range(0, request.Count).Select(i => Encoding.Latin1.GetString(request[i])).ToArray()
            : [];
        return (status, args, consumed, parser.Error);
    }

    [Theory]
    [InlineData("*1\r\n$4\r\nPING\r\n", new[] { "PING" })]
    [InlineData("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", new[] { "SET", "k", "" })]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("PING\n", new[] { "PING" })]
    [InlineData("  set  a   b \r\n", new[] { "set", "a", "b" })]
    [InlineData("set \"a b\" 'c d'\r\n", new[] { "set", "a b", "c d" })]
    [InlineData("set \"\\x41\\n\\t\" 'it\\'s'\r\n", new[] { "set", "A\n\t", "it's" })]
    [InlineData("set foo\"bar\"\r\n", new[] { "set", "foobar" })]
    public void Complete_commands_are_read_whole(string input, string[] expected)
    {
        var (status, args, consumed, _) = Parse(input);
        Assert.Equal(ParseStatus.Complete, status);
        Assert.Equal(expected, args);
        Assert.Equal(input.Length, consumed);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("   \r\n")]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    public void Empty_lines_and_empty_multibulks_are_skipped(string input)
    {
        var (status, _, consumed, _) = Parse(input);
        Assert.Equal(ParseStatus.Skipped, status);
        Assert.Equal(input.Length, consumed);
    }

    [Theory]
    [InlineData("*x\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*2147483648\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$-1\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'")]
    [InlineData("set \"a\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("set 'a'b\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("set \"a\"b\r\n", "Protocol error: unbalanced quotes in request")]
    public void Malformed_input_gets_Redis_protocol_errors(string input, string error)
    {
        var (status, _, _, message) = Parse(input);
        Assert.Equal(ParseStatus.Error, status);
        Assert.Equal(error, message);
    }

    [Fact]
    public void Unauthenticated_clients_may_not_send_large_requests()
    {
        Assert.Equal("Protocol error: invalid multibulk length", Parse("*11\r\n", unauthenticated: true).Error);
        Assert.Equal("Protocol error: invalid bulk length", Parse("*1\r\n$16385\r\n", unauthenticated: true).Error);
        Assert.Equal(ParseStatus.Incomplete, Parse("*11\r\n").Status);
    }

    [Fact]
    public void Overlong_lines_without_a_newline_are_errors()
    {
        Assert.Equal("Protocol error: too big inline request", Parse(new string('a', 65 * 1024)).Error);
        Assert.Equal("Protocol error: too big mbulk count string", Parse("*" + new string('1', 65 * 1024)).Error);
        Assert.Equal("Protocol error: too big bulk count string", Parse("*1\r\n$" + new string('1', 65 * 1024)).Error);
    }

    [Fact]
    public void Every_prefix_of_a_command_is_incomplete()
    {
        const string command = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
        for (var length = 0; length < command.Length; length++)
        {
            Assert.Equal(ParseStatus.Incomplete, Parse(command[..length]).Status);
        }
    }

    [Fact]
    public void A_partial_multibulk_resumes_where_it_stopped_and_reports_the_bytes_it_needs()
    {
        var parser = new RequestParser();
        var request = new Request();
        var value = new string('v', 100_000);
        var bytes = Encoding.ASCII.GetBytes($"*2\r\n$3\r\nSET\r\n${value.Length}\r\n{value}\r\n");
        Assert.Equal(ParseStatus.Incomplete, parser.Parse(bytes, 0, 40, request, out _));
        Assert.Equal(bytes.Length, parser.BytesNeeded);
        Assert.True(parser.InProgress);
        // The same command start, more bytes, now in another buffer at another offset.
        var moved = new byte[bytes.Length + 7];
        bytes.CopyTo(moved, 7);
        Assert.Equal(ParseStatus.Complete, parser.Parse(moved, 7, moved.Length, request, out var consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(value, Encoding.ASCII.GetString(request[1]));
    }

    [Fact]
    public void A_NUL_before_the_line_end_means_no_line_yet_as_in_Redis()
    {
        Assert.Equal(ParseStatus.Incomplete, Parse("PING\0\r\n").Status);
        Assert.Equal(ParseStatus.Incomplete, Parse("*1\0\r\n").Status);
    }

    [Fact]
    public void Pipelined_commands_are_read_one_at_a_time()
    {
        var parser = new RequestParser();
        var request = new Request();
        var bytes = Encoding.ASCII.GetBytes("PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n");
        var start = 0;
        var names = new List<string>();
        while (parser.Parse(bytes, start, bytes.Length, request, out var consumed) == ParseStatus.Complete)
        {
            names.Add(Encoding.ASCII.GetString(request[0]));
            start += consumed;
        }
        Assert.Equal(["PING", "PING", "ECHO"], names);
        Assert.Equal(bytes.Length, start);
    }
}
