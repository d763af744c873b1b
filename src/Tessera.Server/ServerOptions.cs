using Tessera.Server.Config;

namespace Tessera.Server;

/// <summary>
/// A node's configuration as redis-server reads it: an optional redis.conf, then <c>--name value</c> arguments.
/// Loading fails with <see cref="ConfigurationException"/>, whose text the CLI prints like redis-server does.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>Tessera's own version.</summary>
    public const string Version = "0.1.0";

    /// <summary>The Redis version Tessera is compatible with, reported where clients look for it (HELLO, INFO).</summary>
    public const string RedisVersion = Tessera.Core.Commands.CommandReplies.RedisVersion;

    private ServerOptions(ServerConfig config, IReadOnlyList<string> warnings, IReadOnlyDictionary<string, string> renamed, IReadOnlyList<string[]> users, string? configFile)
    {
        Config = config;
        Warnings = warnings;
        RenamedCommands = renamed;
        Users = users;
        ConfigFile = configFile is null ? null : Path.GetFullPath(configFile);
    }

    internal ServerConfig Config { get; }

    internal IReadOnlyList<string> Warnings { get; }

    internal IReadOnlyDictionary<string, string> RenamedCommands { get; }

    /// <summary>ACL users declared in the config file (name, then rules).</summary>
    internal IReadOnlyList<string[]> Users { get; }

    /// <summary>Absolute path of the config file, for CONFIG REWRITE and INFO; null without one.</summary>
    public string? ConfigFile { get; }

    /// <summary>The working directory (<c>dir</c>): snapshots go there, and relative paths resolve against it.</summary>
    public string Dir => Config.Dir;

    /// <summary>True when the node should detach and run in the background.</summary>
    public bool Daemonize => Config.Daemonize.Value;

    /// <summary>Where to write the process id, or "".</summary>
    public string PidFile => Config.PidFile.Value;

    /// <summary>Log file path; "" means standard output.</summary>
    public string LogFile => Config.LogFile.Value;

    /// <summary>debug, verbose, notice or warning.</summary>
    public string LogLevel => Config.LogLevel.Value;

    /// <summary>SIGINT and SIGTERM behaviour (shutdown-on-sigint/sigterm).</summary>
    public string ShutdownOnSigterm => Config.ShutdownOnSigterm.Value;

    /// <summary>Reads <paramref name="configFile"/> (may be null) then applies <paramref name="arguments"/>.</summary>
    public static ServerOptions Load(string? configFile, IReadOnlyList<string> arguments)
    {
        var config = new ServerConfig();
        var loader = new ConfigLoader(config);
        try
        {
            loader.Load(configFile, arguments);
        }
        catch (ConfigFileException e)
        {
            throw new ConfigurationException(e.Line, e.Text, e.Message);
        }
        return new ServerOptions(config, loader.Warnings, loader.RenamedCommands, loader.Users, configFile);
    }
}

/// <summary>A configuration error: the line of the combined configuration, its text and the reason.</summary>
public sealed class ConfigurationException(int line, string text, string reason) : Exception(reason)
{
    public int Line { get; } = line;

    public string Text { get; } = text;

    /// <summary>redis-server's report: "*** FATAL CONFIG FILE ERROR ***", the line, and the reason.</summary>
    public string Report => Line > 0
        ? $"\n*** FATAL CONFIG FILE ERROR (Tessera {ServerOptions.Version}) ***\nReading the configuration file, at line {Line}\n>>> '{Text}'\n{Message}"
        : $"\n*** FATAL CONFIG FILE ERROR (Tessera {ServerOptions.Version}) ***\n{Message}";
}
