using Tessera.Resp;
using Tessera.Server.Cluster;

namespace Tessera.Server.Commands;

/// <summary>
/// What a command family outside this assembly (the CLUSTER family of Tessera.Cluster) sees of a command: its
/// arguments, the reply writer, errors counted as the node's own handlers count them, and the client.
/// </summary>
public interface ICommandContext
{
    int ArgCount { get; }

    ReadOnlySpan<byte> Arg(int index);

    /// <summary>True when argument <paramref name="index"/> is <paramref name="word"/>, ignoring ASCII case.</summary>
    bool ArgIs(int index, ReadOnlySpan<byte> word);

    /// <summary>Reads argument <paramref name="index"/> as a 64-bit integer; replies with Redis's error when it is not one.</summary>
    bool TryGetLong(int index, out long value);

    /// <summary>"name" or "container|sub", lower case.</summary>
    string CommandName { get; }

    RespWriter Reply { get; }

    void Ok();

    /// <summary>Replies with an error text that starts with its code ("ERR ...").</summary>
    void Error(string message);

    void SyntaxError();

    IClusterClient Client { get; }
}

/// <summary>Where a family outside this assembly registers its handlers (see <see cref="CommandRegistry.Add"/>).</summary>
public interface ICommandRegistration
{
    void Add(string fullName, Action<ICommandContext> handler);
}
