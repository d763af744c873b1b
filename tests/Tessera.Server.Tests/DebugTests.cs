using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>DEBUG's subcommands that change what the node does (Redis's debug.c), beyond the replies compared in Oracle/debug.redis.</summary>
public sealed class DebugTests
{
    [Fact]
    public void Reload_options_flush_save_and_merge_as_redis_does()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        client.Call("SET", "x", "1");
        client.Call("FUNCTION", "LOAD", "#!lua name=test1\nredis.register_function('test1', function() return 'hello' end)");
        Assert.Equal("OK", client.Call("DEBUG", "RELOAD").Text);
        Assert.Equal("hello", client.Call("FCALL", "test1", "0").Text);
        // Without MERGE, what is loaded may not meet what is there: the library first.
        Assert.Equal("ERR Error trying to load the RDB dump", client.Call("DEBUG", "RELOAD", "NOFLUSH").Text);
        client.Call("FUNCTION", "LOAD", "#!lua name=test2\nredis.register_function('test2', function() return 'hello' end)");
        client.Call("SET", "x", "2");
        client.Call("SET", "y", "only here");
        Assert.Equal("OK", client.Call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE").Text);
        Assert.Equal("hello", client.Call("FCALL", "test1", "0").Text);
        Assert.Equal("hello", client.Call("FCALL", "test2", "0").Text);
        Assert.Equal("1", client.Call("GET", "x").Text);
        Assert.Equal("only here", client.Call("GET", "y").Text);
        Assert.Equal("OK", client.Call("DEBUG", "RELOAD", "NOSAVE").Text);
        Assert.True(client.Call("GET", "y").IsNull);
    }

    [Fact]
    public void Loadaof_without_an_aof_fails_instead_of_ending_the_process()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        Assert.True(client.Call("DEBUG", "LOADAOF").IsError);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void Protocol_push_sends_a_push_then_the_reply_in_resp3_only()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        Assert.Equal("ERR RESP2 is not supported by this command", client.Call("DEBUG", "PROTOCOL", "push").Text);
        client.Call("HELLO", "3");
        client.Send("DEBUG", "PROTOCOL", "push");
        Assert.Equal(">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"u8.ToArray(), client.ReadRaw());
        Assert.Equal("Some real reply following the push reply", client.Read().Text);
    }

    [Fact]
    public void Pause_cron_stops_active_expiry_until_resumed()
    {
        using var node = new TesseraNode("--enable-debug-command", "yes");
        using var client = node.Connect();
        client.Call("DEBUG", "PAUSE-CRON", "1");
        client.Call("SET", "short", "v", "PX", "1");
        Thread.Sleep(300);
        Assert.Equal(1, client.Call("DBSIZE").Integer);
        client.Call("DEBUG", "PAUSE-CRON", "0");
        Assert.True(SpinWait.SpinUntil(() => client.Call("DBSIZE").Integer == 0, 5000));
    }
}
