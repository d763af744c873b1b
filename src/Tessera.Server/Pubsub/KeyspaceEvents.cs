namespace Tessera.Server.Pubsub;

/// <summary>Classes of keyspace notifications (<c>notify-keyspace-events</c>), as Redis defines them.</summary>
[Flags]
internal enum KeyspaceEvents
{
    None = 0,
    Keyspace = 1 << 0,
    Keyevent = 1 << 1,
    Generic = 1 << 2,
    String = 1 << 3,
    List = 1 << 4,
    Set = 1 << 5,
    Hash = 1 << 6,
    ZSet = 1 << 7,
    Expired = 1 << 8,
    Evicted = 1 << 9,
    Stream = 1 << 10,
    KeyMiss = 1 << 11,
    Module = 1 << 12,
    New = 1 << 13,

    /// <summary>The "A" alias: g$lshzxetd.</summary>
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module,
}

/// <summary>The one-letter names of <see cref="KeyspaceEvents"/> and their canonical order.</summary>
internal static class KeyspaceEventNames
{
    private static readonly (char Letter, KeyspaceEvents Flag)[] Classes =
    [
        ('g', KeyspaceEvents.Generic), ('$', KeyspaceEvents.String), ('l', KeyspaceEvents.List),
        ('s', KeyspaceEvents.Set), ('h', KeyspaceEvents.Hash), ('z', KeyspaceEvents.ZSet),
        ('x', KeyspaceEvents.Expired), ('e', KeyspaceEvents.Evicted), ('t', KeyspaceEvents.Stream),
        ('d', KeyspaceEvents.Module), ('n', KeyspaceEvents.New),
    ];

    /// <summary>Parses a flag string such as "KEA"; false on an unknown letter.</summary>
    public static bool TryParse(string text, out KeyspaceEvents events)
    {
        events = KeyspaceEvents.None;
        foreach (var c in text)
        {
            events |= c switch
            {
                'A' => KeyspaceEvents.All,
                'K' => KeyspaceEvents.Keyspace,
                'E' => KeyspaceEvents.Keyevent,
                'm' => KeyspaceEvents.KeyMiss,
                _ => Array.Find(Classes, x => x.Letter == c).Flag,
            };
            if (c is not ('A' or 'K' or 'E' or 'm') && !Classes.Any(x => x.Letter == c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Formats like Redis: "A" when all of g$lshzxetd are on (Redis then omits 'n'), else each class letter in
    /// order, then K, E and m.
    /// </summary>
    public static string Format(KeyspaceEvents events)
    {
        var text = new System.Text.StringBuilder();
        if ((events & KeyspaceEvents.All) == KeyspaceEvents.All)
        {
            text.Append('A');
        }
        else
        {
            foreach (var (letter, flag) in Classes)
            {
                if (events.HasFlag(flag))
                {
                    text.Append(letter);
                }
            }
        }
        if (events.HasFlag(KeyspaceEvents.Keyspace))
        {
            text.Append('K');
        }
        if (events.HasFlag(KeyspaceEvents.Keyevent))
        {
            text.Append('E');
        }
        if (events.HasFlag(KeyspaceEvents.KeyMiss))
        {
            text.Append('m');
        }
        return text.ToString();
    }
}
