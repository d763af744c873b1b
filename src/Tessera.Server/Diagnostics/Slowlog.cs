using System.Text;
using Tessera.Resp;
using Tessera.Server.Config;
using Tessera.Server.Sessions;

namespace Tessera.Server.Diagnostics;

/// <summary>
/// SLOWLOG: commands that took longer than <c>slowlog-log-slower-than</c> microseconds, newest first, at most
/// <c>slowlog-max-len</c>, with Redis's argument truncation (32 arguments, 128 bytes each).
/// </summary>
internal sealed class Slowlog(ServerConfig config)
{
    private const int MaxArgs = 32;
    private const int MaxArgLength = 128;

    private readonly LinkedList<Entry> _entries = new();
    private long _nextId;

    internal sealed record Entry(long Id, long UnixSeconds, long Micros, byte[][] Args, string Peer, string Name);

    public int Count => _entries.Count;

    public IEnumerable<Entry> Entries => _entries;

    /// <summary>Records the command if it was slow enough.</summary>
    public void Record(ClientSession session, Core.Commands.CommandInfo command, Request args, long micros)
    {
        var threshold = config.SlowlogLogSlowerThan.Value;
        if (threshold < 0 || micros < threshold)
        {
            return;
        }
        var count = Math.Min(args.Count, MaxArgs);
        var copied = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            if (i == MaxArgs - 1 && args.Count > MaxArgs)
            {
                copied[i] = Encoding.ASCII.GetBytes($"... ({args.Count - MaxArgs + 1} more arguments)");
                break;
            }
            var arg = Redaction.IsSecret(command, args, i, config) ? Redaction.Placeholder : args[i];
            copied[i] = arg.Length > MaxArgLength
                ? [.. arg[..MaxArgLength], .. Encoding.ASCII.GetBytes($"... ({arg.Length - MaxArgLength} more bytes)")]
                : arg.ToArray();
        }
        var name = session.Name is null ? "" : Encoding.UTF8.GetString(session.Name);
        _entries.AddFirst(new Entry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), micros, copied, session.RemoteAddress, name));
        Trim();
    }

    /// <summary>Drops entries beyond slowlog-max-len.</summary>
    public void Trim()
    {
        while (_entries.Count > config.SlowlogMaxLen.Value)
        {
            _entries.RemoveLast();
        }
    }

    public void Reset() => _entries.Clear();
}
