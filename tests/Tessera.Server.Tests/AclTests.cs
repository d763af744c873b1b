using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>ACL beyond the oracle script: the ACL LOG, the ACL file, users from the config, and who gets disconnected.</summary>
[Collection(OracleCollection.Name)]
public class AclTests(OracleFixture fixture)
{
    [Fact]
    public void Acl_log_groups_and_describes_denials_as_redis_does()
    {
        List<string> Run(RespClient admin, RespClient user)
        {
            admin.Call("ACL", "LOG", "RESET");
            admin.Call("ACL", "SETUSER", "logger", "reset", "on", ">pw", "~k*", "&ch", "+get", "+set", "+publish", "+multi", "+exec");
            user.Call("AUTH", "logger", "wrong");
            user.Call("AUTH", "nobody", "pw");
            user.Call("AUTH", "logger", "pw");
            foreach (var args in new string[][] { ["GET", "x"], ["GET", "x"], ["SET", "y", "1"], ["HSET", "k", "a", "b"], ["PUBLISH", "other", "m"], ["GET", "x"] })
            {
                user.Call(args);
            }
            user.Call("MULTI");
            user.Call("DEL", "k1");
            user.Call("EXEC");
            var entries = admin.Call("ACL", "LOG").Items;
            var log = entries.Select(e => string.Join(' ', e.Items.Chunk(2).Where(p => p[0].Text is not ("age-seconds" or "client-info")).Select(p => $"{p[0].Text}={p[1]}"))).ToList();
            Assert.All(entries, e => Assert.Contains("user=", e.Items[13].Text));
            Assert.Single(admin.Call("ACL", "LOG", "1").Items);
            admin.Call("ACL", "DELUSER", "logger");
            admin.Call("ACL", "LOG", "RESET");
            return log;
        }

        using var redisAdmin = fixture.Redis.Connect();
        using var redisUser = fixture.Redis.Connect();
        using var tesseraAdmin = fixture.Tessera.Connect();
        using var tesseraUser = fixture.Tessera.Connect();
        var expected = Run(redisAdmin, redisUser);
        Assert.Equal(expected, Run(tesseraAdmin, tesseraUser));
        Assert.Contains("count=3 reason=key context=toplevel object=x username=logger", expected);
    }

    [Fact]
    public void Acl_save_and_load_round_trip_through_the_acl_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tessera-acl-{Guid.NewGuid():N}.acl");
        File.WriteAllText(path, "user default on nopass ~* &* +@all\nuser alice on >pw ~a* resetchannels -@all +get\n");
        try
        {
            using var node = new TesseraNode("--aclfile", path);
            using var admin = node.Connect();
            Assert.Equal("[alice, default]", admin.Call("ACL", "USERS").ToString());
            admin.Call("ACL", "SETUSER", "bob", "on", ">pw2", "+@all", "~*");
            Assert.Equal("OK", admin.Call("ACL", "SAVE").Text);
            Assert.Contains("user bob on #", File.ReadAllText(path));

            using var bob = node.Connect();
            Assert.Equal("OK", bob.Call("AUTH", "bob", "pw2").Text);
            File.WriteAllText(path, File.ReadAllText(path).Replace("user bob", "user carl", StringComparison.Ordinal));
            Assert.Equal("OK", admin.Call("ACL", "LOAD").Text);
            Assert.Equal("[alice, carl, default]", admin.Call("ACL", "USERS").ToString());
            Assert.True(bob.IsClosedByServer(), "a client of a user the file no longer has is disconnected");

            File.WriteAllText(path, "user default on nopass ~* +@all\nuser broken on +nosuchcommand\n");
            var error = admin.Call("ACL", "LOAD").Text;
            Assert.StartsWith($"ERR {path}:2: Unknown command or category name in ACL. WARNING: ACL errors detected", error);
            Assert.Equal("[alice, carl, default]", admin.Call("ACL", "USERS").ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Users_declared_in_the_config_exist_at_start_up()
    {
        using var node = new TesseraNode("--user", "alice", "on", ">pw", "~app:*", "+@read");
        using var client = node.Connect();
        Assert.Equal("OK", client.Call("AUTH", "alice", "pw").Text);
        Assert.Null(client.Call("GET", "app:1").Text);
        Assert.StartsWith("NOPERM", client.Call("GET", "other").Text);
        Assert.StartsWith("NOPERM", client.Call("SET", "app:1", "v").Text);
    }

    [Fact]
    public void Users_in_both_the_config_and_an_acl_file_refuse_to_start()
    {
        var error = Assert.Throws<ConfigurationException>(() => new TesseraNode("--user", "alice", "on", "--aclfile", "/tmp/none.acl"));
        Assert.Contains("please define either an ACL file or declare users directly in your redis.conf, but not both", error.Message);
    }

    [Fact]
    public void Deleting_a_user_disconnects_its_clients_and_revoking_a_channel_its_subscribers()
    {
        using var node = new TesseraNode();
        using var admin = node.Connect();
        admin.Call("ACL", "SETUSER", "worker", "on", ">pw", "~*", "&jobs", "&events", "+@all");
        using var subscriber = node.Connect();
        subscriber.Call("AUTH", "worker", "pw");
        subscriber.Call("SUBSCRIBE", "events");
        using var other = node.Connect();
        other.Call("AUTH", "worker", "pw");

        // Still allowed: nobody is disconnected.
        admin.Call("ACL", "SETUSER", "worker", "resetchannels", "&events");
        Assert.Equal("[pong, ]", subscriber.Call("PING").ToString());
        admin.Call("ACL", "SETUSER", "worker", "resetchannels", "&jobs");
        Assert.True(subscriber.IsClosedByServer());
        Assert.Equal("PONG", other.Call("PING").Text);

        Assert.Equal(1, admin.Call("ACL", "DELUSER", "worker").Integer);
        Assert.True(other.IsClosedByServer());
        Assert.Equal("PONG", admin.Call("PING").Text);
    }
}
