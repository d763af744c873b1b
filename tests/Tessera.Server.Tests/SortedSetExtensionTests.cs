using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// ZRANK/ZREVRANK WITHSCORE, which Redis 7.2 added: the reference redis-server (7.0) rejects it, so these
/// replies are checked against the shapes 7.2 documents rather than by the oracle.
/// </summary>
public class SortedSetExtensionTests
{
    [Fact]
    public void Zrank_withscore_replies_rank_and_score()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("ZADD", "z", "1", "one", "2.5", "two", "3", "three");
        Assert.Equal("*2\r\n:1\r\n$3\r\n2.5\r\n"u8.ToArray(), client.CallRaw("ZRANK", "z", "two", "WITHSCORE"));
        Assert.Equal("*2\r\n:0\r\n$1\r\n3\r\n"u8.ToArray(), client.CallRaw("ZREVRANK", "z", "three", "withscore"));
        Assert.Equal("*-1\r\n"u8.ToArray(), client.CallRaw("ZRANK", "z", "four", "WITHSCORE"));
        Assert.Equal("*-1\r\n"u8.ToArray(), client.CallRaw("ZRANK", "nokey", "four", "WITHSCORE"));
        Assert.Equal("$-1\r\n"u8.ToArray(), client.CallRaw("ZRANK", "z", "four"));
        Assert.Equal("ERR syntax error", client.Call("ZRANK", "z", "two", "WITHSCORES").Text);
        Assert.Equal("ERR wrong number of arguments for 'zrank' command", client.Call("ZRANK", "z", "two", "WITHSCORE", "x").Text);
        client.Call("HELLO", "3");
        Assert.Equal("*2\r\n:1\r\n,2.5\r\n"u8.ToArray(), client.CallRaw("ZRANK", "z", "two", "WITHSCORE"));
        Assert.Equal("_\r\n"u8.ToArray(), client.CallRaw("ZRANK", "z", "four", "WITHSCORE"));
    }
}
