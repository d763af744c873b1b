namespace Tessera.Server.Config;

/// <summary>
/// A new value that passed its checks could not be put into effect (a port already in use): CONFIG SET rolls
/// every value of the command back and answers with this message, as Redis's apply functions do.
/// </summary>
internal sealed class ConfigApplyException(string message) : Exception(message);
