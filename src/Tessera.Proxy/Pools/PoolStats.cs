namespace Tessera.Proxy.Pools;

/// <summary>nutcracker's per-pool counters, updated with interlocked adds from every proxy thread.</summary>
public sealed class PoolStats
{
    public long ClientEof;
    public long ClientErr;
    public long ClientConnections;
    public long ServerEjects;
    public long ForwardError;
    public long Fragments;
}
