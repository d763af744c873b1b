using System.Text;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Protocol handling over real sockets: pipelining, large values, errors that close one connection only.</summary>
public class ProtocolTests
{
    [Fact]
    public void A_protocol_error_closes_that_connection_and_no_other()
    {
        using var node = new TesseraNode();
        using var bystander = node.Connect();
        Assert.Equal("PONG", bystander.Call("PING").Text);
        using var offender = node.Connect();
        offender.SendRaw("*1\r\n$x\r\n"u8);
        Assert.Equal("ERR Protocol error: invalid bulk length", offender.Read().Text);
        Assert.True(offender.IsClosedByServer());
        Assert.Equal("PONG", bystander.Call("PING").Text);
    }

    [Fact]
    public async Task A_deep_pipeline_gets_every_reply_in_order()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        const int count = 100_000;
        var batch = new MemoryStream();
        for (var i = 0; i < count; i++)
        {
            batch.Write(RespClient.Encode("INCR", "counter"));
        }
        var sender = Task.Run(() => client.SendRaw(batch.ToArray()));
        for (var i = 1; i <= count; i++)
        {
            Assert.Equal(i, client.Read().Integer);
        }
        await sender;
    }

    [Fact]
    public void Large_values_round_trip()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        var value = new byte[20 * 1024 * 1024];
        new Random(1).NextBytes(value);
        client.Send([Encoding.ASCII.GetBytes("SET"), "big"u8.ToArray(), value]);
        Assert.Equal("OK", client.Read().Text);
        client.Send("GET", "big");
        var reply = client.ReadRaw();
        var header = Encoding.ASCII.GetBytes($"${value.Length}\r\n");
        Assert.Equal(header.Length + value.Length + 2, reply.Length);
        Assert.True(reply.AsSpan(header.Length, value.Length).SequenceEqual(value));
        Assert.Equal(value.Length, client.Call("STRLEN", "big").Integer);
    }

    [Fact]
    public void A_client_over_the_query_buffer_limit_is_disconnected()
    {
        using var node = new TesseraNode("--client-query-buffer-limit", "1mb");
        using var client = node.Connect();
        client.SendRaw(Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${3 * 1024 * 1024}\r\n"));
        client.SendRaw(new byte[2 * 1024 * 1024]);
        Assert.True(client.IsClosedByServer());
        using var other = node.Connect();
        Assert.Equal("PONG", other.Call("PING").Text);
    }

    [Fact]
    public void Inline_commands_and_bare_newlines_work_like_telnet_and_redis_cli_pipe()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.SendRaw("\r\nSET greeting \"hello world\"\r\n\r\nGET greeting\r\n"u8);
        Assert.Equal("OK", client.Read().Text);
        Assert.Equal("hello world", client.Read().Text);
    }

    [Fact]
    public void Unauthenticated_clients_cannot_send_huge_requests_when_a_password_is_set()
    {
        using var node = new TesseraNode("--requirepass", "secret");
        using var client = node.Connect();
        client.SendRaw("*100\r\n"u8);
        Assert.Equal("ERR Protocol error: invalid multibulk length", client.Read().Text);
        Assert.True(client.IsClosedByServer());
    }
}
