namespace Tessera.Server.Persistence;

/// <summary>
/// Changes to the data (Redis's server.dirty): <see cref="Dirty"/> counts those since the last save (save points,
/// INFO rdb_changes_since_last_save) and is reset by saves, even inside a command (FLUSHALL's); <see cref="Total"/>
/// only grows, so "did this command change anything" compares it.
/// </summary>
internal sealed class ChangeCounter
{
    private long _dirty;

    public long Dirty
    {
        get => _dirty;
        set
        {
            if (value > _dirty)
            {
                Total += value - _dirty;
            }
            _dirty = value;
        }
    }

    public long Total { get; private set; }
}
