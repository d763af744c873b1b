namespace Tessera.Server.Config;

/// <summary>Properties of a configuration option, as in Redis's config table.</summary>
[Flags]
internal enum ConfigFlags
{
    None = 0,

    /// <summary>Only settable at start-up (config file or command line).</summary>
    Immutable = 1 << 0,

    /// <summary>CONFIG SET refuses it unless <c>enable-protected-configs</c> allows it.</summary>
    Protected = 1 << 1,

    /// <summary>Values are secrets: CONFIG REWRITE and logs must not leak them.</summary>
    Sensitive = 1 << 2,

    /// <summary>Recognised for compatibility but without effect in Tessera yet: a non-default value logs a warning.</summary>
    NotImplemented = 1 << 3,

    /// <summary>Takes several space-separated values (save, bind, client-output-buffer-limit ...).</summary>
    MultiArgument = 1 << 4,

    /// <summary>Not listed by CONFIG GET * (Redis's debugging options).</summary>
    Hidden = 1 << 5,
}
