namespace Tessera.Server.Acl;

/// <summary>What a denial was about, ranked as Redis ranks them when several selectors deny differently.</summary>
internal enum AclDenial
{
    None = 0,
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

/// <summary>Where a denied command came from (ACL LOG's "context").</summary>
internal enum AclContext
{
    TopLevel,
    Multi,
    Lua,
}

/// <summary>One ACL LOG entry; repeats within a minute are counted on it.</summary>
internal sealed class AclLogEntry(AclDenial reason, AclContext context, string obj, string user)
{
    public long Count { get; set; } = 1;

    public AclDenial Reason { get; } = reason;

    public AclContext Context { get; } = context;

    public string Object { get; } = obj;

    public string User { get; } = user;

    /// <summary>Unix milliseconds of the last occurrence.</summary>
    public long TimeMs { get; set; }

    public string ClientInfo { get; set; } = "";
}

/// <summary>
/// ACL LOG (Redis's ACLLog): the newest denials first, a repeat of one of the ten newest (same reason, context,
/// object and user within 60 seconds) counted on it, at most <c>acllog-max-len</c> entries. Locked: a failed
/// AUTH adds to it while a busy script holds the execution lock.
/// </summary>
internal sealed class AclLog
{
    private const long GroupingMs = 60_000;
    private readonly LinkedList<AclLogEntry> _entries = new();

    /// <summary>The entries, newest first, as a copy.</summary>
    public AclLogEntry[] Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public int Count => _entries.Count;

    public void Add(AclLogEntry entry, long maxLength)
    {
        lock (_entries)
        {
            AddLocked(entry, maxLength);
        }
    }

    private void AddLocked(AclLogEntry entry, long maxLength)
    {
        var scanned = 0;
        for (var node = _entries.First; node is not null && scanned < 10; node = node.Next, scanned++)
        {
            var e = node.Value;
            if (e.Reason == entry.Reason && e.Context == entry.Context && Math.Abs(e.TimeMs - entry.TimeMs) <= GroupingMs
                && e.Object == entry.Object && e.User == entry.User)
            {
                _entries.Remove(node);
                _entries.AddFirst(node);
                e.Count++;
                e.TimeMs = entry.TimeMs;
                e.ClientInfo = entry.ClientInfo;
                return;
            }
        }
        _entries.AddFirst(entry);
        while (_entries.Count > maxLength)
        {
            _entries.RemoveLast();
        }
    }

    public void Clear()
    {
        lock (_entries)
        {
            _entries.Clear();
        }
    }
}
