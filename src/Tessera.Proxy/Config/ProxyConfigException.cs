namespace Tessera.Proxy.Config;

/// <summary>A configuration the proxy refuses, with the file, the line and the reason in the message.</summary>
public sealed class ProxyConfigException(string message) : Exception(message);
