using Tessera.Core.Hashing;

namespace Tessera.Core.Distribution;

/// <summary>How a pool spreads keys over its servers (nutcracker's <c>distribution:</c>).</summary>
public enum DistributionKind
{
    Ketama,
    Modula,
    Random,

    /// <summary>Codis-style slot table (Tessera's extension, with <c>slots:</c>).</summary>
    Slots,

    /// <summary>Ranges of key ids per server (Tessera's extension, with <c>key_ranges:</c>).</summary>
    Range,
}

/// <summary>
/// Where a key lives in a pool, as nutcracker decides it: the part between the hash-tag characters (when both are
/// present with something between them), hashed by the pool's hash, dispatched by its distribution over the live
/// servers. Immutable: a pool builds a new placement when its live servers change and swaps it in.
/// </summary>
public sealed class KeyPlacement
{
    private readonly NutcrackerHashKind _hash;
    private readonly byte _tagOpen;
    private readonly byte _tagClose;
    private readonly bool _hasTag;
    private readonly DistributionKind _distribution;
    private readonly int _poolSize;
    private readonly KetamaRing? _ketama;
    private readonly ModulaTable? _modula;
    private readonly int[] _live;
    private readonly bool[] _isLive;
    private readonly SlotTable? _slots;
    private readonly RangeTable? _ranges;

    /// <param name="hash">The key hash.</param>
    /// <param name="hashTag">Two characters, or empty for none.</param>
    /// <param name="distribution">The distribution.</param>
    /// <param name="poolSize">Servers in the pool, live or not.</param>
    /// <param name="live">The live servers, in pool order.</param>
    /// <param name="slots">The slot table of a <see cref="DistributionKind.Slots"/> pool.</param>
    /// <param name="ranges">The ranges of a <see cref="DistributionKind.Range"/> pool.</param>
    public KeyPlacement(NutcrackerHashKind hash, string hashTag, DistributionKind distribution, int poolSize, IReadOnlyList<WeightedServer> live,
        SlotTable? slots = null, RangeTable? ranges = null)
    {
        _slots = slots;
        _ranges = ranges;
        _isLive = new bool[poolSize];
        foreach (var server in live)
        {
            _isLive[server.Index] = true;
        }
        _hash = hash;
        _hasTag = hashTag.Length == 2;
        if (_hasTag)
        {
            _tagOpen = (byte)hashTag[0];
            _tagClose = (byte)hashTag[1];
        }
        _distribution = distribution;
        _poolSize = poolSize;
        _live = [.. live.Select(server => server.Index)];
        if (live.Count > 0)
        {
            _ketama = distribution == DistributionKind.Ketama ? KetamaRing.Build(live) : null;
            _modula = distribution == DistributionKind.Modula ? ModulaTable.Build(live) : null;
        }
    }

    /// <summary>The indexes of the live servers, in pool order.</summary>
    public IReadOnlyList<int> LiveServers => _live;

    /// <summary>True when no server is live (every key fails).</summary>
    public bool IsEmpty => _live.Length == 0;

    /// <summary>The index of the server <paramref name="key"/> goes to, or -1 when no server is live.</summary>
    public int Locate(ReadOnlySpan<byte> key)
    {
        if (_live.Length == 0)
        {
            return -1;
        }
        if (_slots is not null || _ranges is not null)
        {
            // Fixed tables: a key's server does not change when another server is down; its keys fail meanwhile.
            var owner = _slots?.Locate(HashedPart(key)) ?? _ranges!.Locate(HashedPart(key));
            return owner >= 0 && _isLive[owner] ? owner : -1;
        }
        if (_poolSize == 1)
        {
            return 0;
        }
        if (_distribution == DistributionKind.Random)
        {
            return _live[Random.Shared.Next(_live.Length)];
        }
        var hash = Hash(HashedPart(key));
        return _ketama is not null ? _ketama.Locate(hash) : _modula!.Locate(hash);
    }

    /// <summary>The pool's hash of <paramref name="key"/> (0 for an empty key, as nutcracker).</summary>
    public uint Hash(ReadOnlySpan<byte> key) => key.IsEmpty ? 0 : NutcrackerHash.Compute(_hash, key);

    /// <summary>The part of <paramref name="key"/> that is hashed.</summary>
    public ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        if (!_hasTag)
        {
            return key;
        }
        var open = key.IndexOf(_tagOpen);
        if (open < 0)
        {
            return key;
        }
        var close = key[(open + 1)..].IndexOf(_tagClose);
        return close > 0 ? key.Slice(open + 1, close) : key;
    }
}
