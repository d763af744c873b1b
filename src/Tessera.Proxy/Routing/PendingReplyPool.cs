namespace Tessera.Proxy.Routing;

/// <summary>One proxy thread's spare reply objects, so routing a request allocates none in the steady state.</summary>
internal sealed class PendingReplyPool
{
    /// <summary>Spares beyond what a busy loop reuses are left to the GC: memory comes back when load drops.</summary>
    private const int MaxSpares = 4096;

    private readonly Stack<PendingReply> _spares = new();

    public PendingReply Rent() => _spares.Count > 0 ? _spares.Pop() : new PendingReply();

    public void Return(PendingReply reply)
    {
        reply.Recycle();
        if (_spares.Count < MaxSpares)
        {
            _spares.Push(reply);
        }
    }
}
