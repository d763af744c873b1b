namespace Tessera.Resp;

/// <summary>Outcome of one <see cref="RequestParser.Parse"/> call.</summary>
public enum ParseStatus
{
    /// <summary>More bytes are needed; nothing was consumed and the parser keeps its place.</summary>
    Incomplete,

    /// <summary>A whole command was read into the <see cref="Request"/>.</summary>
    Complete,

    /// <summary>An empty line or a zero-length multibulk was skipped: consume the bytes, run nothing.</summary>
    Skipped,

    /// <summary>The input breaks the protocol; reply <see cref="RequestParser.Error"/> and close the connection.</summary>
    Error,
}
