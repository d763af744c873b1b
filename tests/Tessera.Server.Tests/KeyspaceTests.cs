using System.Globalization;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Keyspace iteration and growth: SCAN's guarantee, KEYS, RANDOMKEY, many keys.</summary>
public class KeyspaceTests
{
    private static HashSet<string> ScanAll(RespClient client, params string[] options)
    {
        var seen = new HashSet<string>();
        var cursor = "0";
        var calls = 0;
        do
        {
            var reply = client.Call(["SCAN", cursor, .. options]);
            cursor = reply.Items[0].Text!;
            foreach (var key in reply.Items[1].Items)
            {
                seen.Add(key.Text!);
            }
            Assert.True(++calls < 1_000_000);
        }
        while (cursor != "0");
        return seen;
    }

    private static void Fill(RespClient client, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            client.Send("SET", prefix + i.ToString(CultureInfo.InvariantCulture), "v");
        }
        for (var i = 0; i < count; i++)
        {
            client.Read();
        }
    }

    [Fact]
    public void Scan_returns_every_key_that_exists_throughout_even_while_tables_grow_and_shrink()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        using var churn = node.Connect();
        Fill(client, "stable:", 20_000);
        var seen = new HashSet<string>();
        var cursor = "0";
        var round = 0;
        do
        {
            var reply = client.Call("SCAN", cursor, "COUNT", "50");
            cursor = reply.Items[0].Text!;
            foreach (var key in reply.Items[1].Items)
            {
                seen.Add(key.Text!);
            }
            // Between calls, add and remove other keys so tables resize under the cursor.
            Fill(churn, $"churn{round}:", 200);
            if (round > 0)
            {
                for (var i = 0; i < 200; i++)
                {
                    churn.Send("DEL", $"churn{round - 1}:{i}");
                }
                for (var i = 0; i < 200; i++)
                {
                    churn.Read();
                }
            }
            round++;
        }
        while (cursor != "0");
        for (var i = 0; i < 20_000; i++)
        {
            Assert.Contains("stable:" + i, seen);
        }
    }

    [Fact]
    public void Scan_filters_by_pattern_and_type_and_honours_count()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        Fill(client, "user:", 300);
        Fill(client, "item:", 300);
        Assert.Equal(300, ScanAll(client, "MATCH", "user:*").Count);
        Assert.Equal(600, ScanAll(client, "TYPE", "string").Count);
        Assert.Empty(ScanAll(client, "TYPE", "hash"));
        Assert.Equal(600, ScanAll(client, "COUNT", "1000").Count);
        Assert.Equal("ERR syntax error", client.Call("SCAN", "0", "COUNT", "0").Text);
        Assert.Equal("ERR invalid cursor", client.Call("SCAN", "abc").Text);
        Assert.Equal(600, client.Call("KEYS", "*").Items.Count);
        Assert.Equal(300, client.Call("KEYS", "item:*").Items.Count);
    }

    [Fact]
    public void Randomkey_returns_existing_keys_from_the_whole_keyspace()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        Assert.True(client.Call("RANDOMKEY").IsNull);
        Fill(client, "r", 100);
        var seen = new HashSet<string>();
        for (var i = 0; i < 2000; i++)
        {
            seen.Add(client.Call("RANDOMKEY").Text!);
        }
        Assert.All(seen, key => Assert.StartsWith("r", key, StringComparison.Ordinal));
        Assert.True(seen.Count > 80, $"only {seen.Count} distinct keys of 100");
    }

    [Fact]
    public void Hundreds_of_thousands_of_keys_grow_and_shrink_the_keyspace_correctly()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        Fill(client, "k", 200_000);
        Assert.Equal(200_000, client.Call("DBSIZE").Integer);
        for (var i = 0; i < 200_000; i += 2)
        {
            client.Send("DEL", "k" + i.ToString(CultureInfo.InvariantCulture));
        }
        for (var i = 0; i < 100_000; i++)
        {
            Assert.Equal(1, client.Read().Integer);
        }
        Assert.Equal(100_000, client.Call("DBSIZE").Integer);
        Assert.Equal("v", client.Call("GET", "k199999").Text);
        Assert.True(client.Call("GET", "k199998").IsNull);
        Assert.Equal(100_000, ScanAll(client, "COUNT", "100").Count);
    }
}
