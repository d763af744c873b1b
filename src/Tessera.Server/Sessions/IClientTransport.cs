namespace Tessera.Server.Sessions;

/// <summary>
/// The connection under a session, as far as other threads need it: a session's own event loop drives it
/// directly; other threads (a PUBLISH, a CLIENT KILL, the end of a pause) only ask the loop to act.
/// </summary>
internal interface IClientTransport
{
    /// <summary>Asks the owning loop to send queued remote output and to resume reading and processing.</summary>
    void Wake();

    /// <summary>Asks the owning loop to close the connection (pending replies are dropped).</summary>
    void Close();

    /// <summary>The socket descriptor, for CLIENT LIST; -1 when there is none.</summary>
    int Fd { get; }

    /// <summary>True while output waits for the socket to become writable.</summary>
    bool WaitingToWrite { get; }
}
