using System.Text;
using Tessera.Core.Commands;
using Tessera.Resp;
using Xunit;

namespace Tessera.Core.Tests;

public class CommandTableTests
{
    private static Request Command(string line)
    {
        var request = new Request();
        request.Set([.. line.Split(' ').Select(Encoding.UTF8.GetBytes)]);
        return request;
    }

    private static string[] Keys(string line)
    {
        var args = Command(line);
        var command = CommandTable.Redis.Find(args[0])!;
        var keys = new List<int>();
        KeyExtractor.GetKeys(command, args, 0, keys);
        return [.. keys.Select(i => Encoding.UTF8.GetString(args[i]))];
    }

    [Fact]
    public void A_single_key_position_is_only_given_where_the_key_specs_find_exactly_that_key()
    {
        Assert.Equal(1, CommandTable.Redis.Find("GET"u8)!.SingleKeyPosition);
        // SET's key spec has variable_flags (its GET option reads too): the key's place does not vary.
        Assert.Equal(1, CommandTable.Redis.Find("SET"u8)!.SingleKeyPosition);
        Assert.Equal(-1, CommandTable.Redis.Find("MSET"u8)!.SingleKeyPosition);
        Assert.Equal(-1, CommandTable.Redis.Find("SORT"u8)!.SingleKeyPosition);
        Assert.Equal(-1, CommandTable.Redis.Find("EVAL"u8)!.SingleKeyPosition);
        // Wherever it is given, the general key search finds that one key and no other.
        foreach (var command in CommandTable.Redis.All.Where(c => c.SingleKeyPosition > 0))
        {
            var args = new Request();
            args.Set([.. Enumerable.Range(0, Math.Max(Math.Abs(command.Arity), command.SingleKeyPosition + 1) + 2).Select(i => Encoding.UTF8.GetBytes("a" + i))]);
            var keys = new List<int>();
            KeyExtractor.GetKeys(command, args, 0, keys);
            Assert.True(keys.SequenceEqual([command.SingleKeyPosition]), command.Name);
        }
    }

    [Fact]
    public void The_table_holds_Redis_7_0_commands_with_their_metadata()
    {
        Assert.Equal(240, CommandTable.Redis.Count);
        var get = CommandTable.Redis.Find("GET"u8)!;
        Assert.Equal(2, get.Arity);
        Assert.True(get.Flags.HasFlag(CommandFlags.ReadOnly));
        Assert.True(get.Flags.HasFlag(CommandFlags.Fast));
        var configGet = CommandTable.Redis.Find("config"u8)!.FindSubcommand("GET"u8)!;
        Assert.Equal("config|get", configGet.FullName);
        Assert.Equal(-3, configGet.Arity);
        Assert.True(get.AcceptsArgumentCount(2));
        Assert.False(get.AcceptsArgumentCount(3));
        Assert.True(configGet.AcceptsArgumentCount(5));
    }

    [Theory]
    [InlineData("get foo", new[] { "foo" })]
    [InlineData("mset a 1 b 2", new[] { "a", "b" })]
    [InlineData("mset a 1 b", new[] { "a", "b" })]
    [InlineData("del a b c", new[] { "a", "b", "c" })]
    [InlineData("zunionstore d 2 a b", new[] { "d", "a", "b" })]
    [InlineData("eval x 1 a", new[] { "a" })]
    [InlineData("eval x 0", new string[0])]
    [InlineData("eval x 2 a", new string[0])]
    [InlineData("sort a store b", new[] { "a", "b" })]
    [InlineData("sort a limit 0 1 store b", new[] { "a", "b" })]
    [InlineData("xread streams a b 1 2", new[] { "a", "b" })]
    [InlineData("blpop a b 0", new[] { "a", "b" })]
    [InlineData("georadius k 1 2 3 m store x", new[] { "k", "x" })]
    [InlineData("lmpop 2 a b left", new[] { "a", "b" })]
    [InlineData("set k v", new[] { "k" })]
    [InlineData("migrate h p k 0 5", new[] { "k" })]
    public void Keys_are_found_as_COMMAND_GETKEYS_finds_them(string line, string[] expected)
        => Assert.Equal(expected, Keys(line));

    [Fact]
    public void Keyword_searches_skip_the_last_argument()
    {
        // A STORE keyword in the last position has no key after it.
        Assert.Equal(["k"], Keys("georadius k 1 2 3 m store"));
    }
}
