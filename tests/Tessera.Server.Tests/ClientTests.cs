using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>Connection-level behaviour: AUTH, CLIENT LIST/KILL/PAUSE/REPLY, maxclients, MONITOR.</summary>
public class ClientTests
{
    [Fact]
    public void A_password_is_required_before_other_commands()
    {
        using var node = new TesseraNode("--requirepass", "s3cret");
        using var client = node.Connect();
        Assert.Equal("NOAUTH Authentication required.", client.Call("GET", "k").Text);
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", client.Call("AUTH", "nope").Text);
        Assert.Equal("OK", client.Call("AUTH", "s3cret").Text);
        Assert.Equal("OK", client.Call("SET", "k", "v").Text);
        using var hello = node.Connect();
        Assert.StartsWith("NOAUTH HELLO must be called", hello.Call("HELLO", "3").Text);
        var reply = hello.Call("HELLO", "3", "AUTH", "default", "s3cret");
        Assert.Equal('%', reply.Type);
        Assert.Equal("v", hello.Call("GET", "k").Text);
        Assert.Equal("RESET", hello.Call("RESET").Text);
        Assert.Equal("NOAUTH Authentication required.", hello.Call("GET", "k").Text);
    }

    [Fact]
    public void Client_list_describes_each_connection_in_Redis_format()
    {
        using var node = new TesseraNode();
        using var a = node.Connect();
        using var b = node.Connect();
        a.Call("CLIENT", "SETNAME", "alpha");
        a.Call("SELECT", "3");
        var list = b.Call("CLIENT", "LIST").Text!;
        var lines = list.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        var alpha = lines.Single(l => l.Contains(" name=alpha ", StringComparison.Ordinal));
        Assert.Matches(@"^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=alpha age=\d+ idle=\d+ flags=N db=3 sub=0 psub=0 ssub=0 multi=-1 qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=0 rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=select user=default redir=-1 resp=2$", alpha);
        // As Redis: cmd= names the command being run, set when it is looked up.
        Assert.Contains("cmd=client|info", b.Call("CLIENT", "INFO").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reset_clears_the_connection_state_but_keeps_no_evict_as_redis_does()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Call("CLIENT", "NO-EVICT", "on");
        client.Call("CLIENT", "SETNAME", "someone");
        client.Call("SELECT", "3");
        client.Call("WATCH", "k");
        client.Call("MULTI");
        Assert.Equal("RESET", client.Call("RESET").Text);
        Assert.Matches(" name= .* flags=e db=0 .* multi=-1 .* cmd=client\\|info user=default ", client.Call("CLIENT", "INFO").Text);
        Assert.Equal("ERR EXEC without MULTI", client.Call("EXEC").Text);
    }

    [Fact]
    public void Client_kill_closes_the_chosen_connection()
    {
        using var node = new TesseraNode();
        using var victim = node.Connect();
        using var killer = node.Connect();
        var id = victim.Call("CLIENT", "ID").Integer;
        Assert.Equal(1, killer.Call("CLIENT", "KILL", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Integer);
        Assert.True(victim.IsClosedByServer());
        Assert.Equal(0, killer.Call("CLIENT", "KILL", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Integer);
        Assert.Equal("PONG", killer.Call("PING").Text);
    }

    [Fact]
    public void Client_pause_write_holds_writes_but_not_reads_until_unpaused()
    {
        using var node = new TesseraNode();
        using var admin = node.Connect();
        using var writer = node.Connect();
        admin.Call("SET", "k", "before");
        Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "10000", "WRITE").Text);
        writer.Send("SET", "k", "after");
        // The held client counts as blocked, as Redis's BLOCKED_POSTPONE does.
        Assert.True(admin.WaitForInfo("clients", "blocked_clients", 1));
        Assert.Contains(" flags=b ", admin.Call("CLIENT", "LIST").Text);
        Assert.Equal("before", admin.Call("GET", "k").Text);
        Assert.Equal("OK", admin.Call("CLIENT", "UNPAUSE").Text);
        Assert.Equal("OK", writer.Read().Text);
        Assert.Equal("after", admin.Call("GET", "k").Text);
    }

    [Fact]
    public void Client_pause_ends_by_itself_after_its_timeout()
    {
        using var node = new TesseraNode();
        using var admin = node.Connect();
        using var writer = node.Connect();
        admin.Call("CLIENT", "PAUSE", "300", "ALL");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("PONG", writer.Call("PING").Text);
        Assert.InRange(clock.ElapsedMilliseconds, 200, 5000);
    }

    [Fact]
    public void Client_reply_off_and_skip_suppress_replies()
    {
        using var node = new TesseraNode();
        using var client = node.Connect();
        client.Send("CLIENT", "REPLY", "OFF");
        client.Send("SET", "a", "1");
        client.Send("GET", "a");
        client.Send("CLIENT", "REPLY", "ON");
        Assert.Equal("OK", client.Read().Text);
        client.Send("CLIENT", "REPLY", "SKIP");
        client.Send("SET", "b", "2");
        client.Send("GET", "b");
        Assert.Equal("2", client.Read().Text);
    }

    [Fact]
    public void Connections_beyond_maxclients_are_refused_with_Redis_error()
    {
        using var node = new TesseraNode("--maxclients", "2");
        using var a = node.Connect();
        using var b = node.Connect();
        Assert.Equal("PONG", b.Call("PING").Text);
        using var c = node.Connect();
        Assert.Equal("ERR max number of clients reached", c.Read().Text);
        Assert.True(c.IsClosedByServer());
    }

    [Fact]
    public void Monitor_streams_other_clients_commands_with_redacted_passwords()
    {
        using var node = new TesseraNode();
        using var monitor = node.Connect();
        using var client = node.Connect();
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        client.Call("SET", "key", "a \"quoted\"\nvalue");
        client.Call("AUTH", "default", "secret");
        Assert.Matches("""^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "key" "a \\"quoted\\"\\nvalue"$""", monitor.Read().Text);
        Assert.Matches("""^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "AUTH" "\(redacted\)" "\(redacted\)"$""", monitor.Read().Text);
    }

    [Fact]
    public void Monitor_shows_a_script_before_its_commands_which_come_from_lua()
    {
        using var node = new TesseraNode();
        using var monitor = node.Connect();
        using var client = node.Connect();
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        client.Call("EVAL", "redis.call('set',KEYS[1],ARGV[1])", "1", "foo", "bar");
        client.Call("FUNCTION", "LOAD", "#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'foo', 'bar') end)");
        client.Call("FCALL", "test", "0");
        Assert.Matches("""^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "EVAL" .*"foo" "bar"$""", monitor.Read().Text);
        Assert.Matches("""^\d+\.\d{6} \[0 lua\] "set" "foo" "bar"$""", monitor.Read().Text);
        Assert.Contains("\"FUNCTION\" \"LOAD\"", monitor.Read().Text);
        Assert.Matches("""^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "FCALL" "test" "0"$""", monitor.Read().Text);
        Assert.Matches("""^\d+\.\d{6} \[0 lua\] "set" "foo" "bar"$""", monitor.Read().Text);
    }

    [Fact]
    public void Slowlog_and_monitor_redact_migrate_credentials_and_sensitive_options()
    {
        using var node = new TesseraNode();
        using var monitor = node.Connect();
        using var client = node.Connect();
        var port = node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        client.Call("CONFIG", "SET", "slowlog-log-slower-than", "0");
        client.Call("SLOWLOG", "RESET");
        client.Call("MIGRATE", "127.0.0.1", port, "key", "9", "5000", "AUTH", "user");
        client.Call("MIGRATE", "127.0.0.1", port, "key", "9", "5000", "AUTH2", "user", "password");
        client.Call("CONFIG", "SET", "masterauth", "secret", "tls-key-file-pass", "other");
        client.Call("CONFIG", "SET", "slowlog-log-slower-than", "-1");
        var logged = client.Call("SLOWLOG", "GET").Items.Select(e => string.Join(' ', e.Items[3].Items.Select(a => a.Text))).ToList();
        // Newest first, as sent.
        Assert.Equal("CONFIG SET masterauth (redacted) tls-key-file-pass (redacted)", logged[0]);
        Assert.Equal($"MIGRATE 127.0.0.1 {port} key 9 5000 AUTH2 (redacted) (redacted)", logged[1]);
        Assert.Equal($"MIGRATE 127.0.0.1 {port} key 9 5000 AUTH (redacted)", logged[2]);
        // MONITOR shows no admin command (CONFIG, SLOWLOG): the two MIGRATEs.
        Assert.EndsWith("\"AUTH\" \"(redacted)\"", monitor.Read().Text);
        Assert.EndsWith("\"AUTH2\" \"(redacted)\" \"(redacted)\"", monitor.Read().Text);
    }

    [Fact]
    public void Idle_clients_are_closed_after_the_timeout()
    {
        using var node = new TesseraNode("--timeout", "1");
        using var client = node.Connect();
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.True(client.IsClosedByServer(timeoutMs: 5000));
    }
}
