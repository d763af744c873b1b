using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Tessera.Server.Logging;

/// <summary>
/// Writes log lines the way redis-server does ("1234:M 22 Nov 2026 05:28:00.123 * Ready to accept connections"),
/// so tools and eyes used to Redis logs read Tessera's. The minimum level follows <c>loglevel</c> live.
/// </summary>
public sealed class RedisLogFormat(TextWriter output, Func<LogLevel> minimumLevel) : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly int _pid = Environment.ProcessId;

    private LogLevel MinimumLevel => minimumLevel();

    public ILogger CreateLogger(string categoryName) => new Writer(this);

    public void Dispose() => output.Flush();

    /// <summary>Redis's level marks: '.' debug, '-' verbose, '*' notice, '#' warning.</summary>
    private static char Mark(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => '.',
        LogLevel.Information => '*',
        _ => '#',
    };

    private void Write(LogLevel level, string message)
    {
        var now = DateTime.Now;
        var line = string.Create(CultureInfo.InvariantCulture, $"{_pid}:M {now:dd MMM yyyy HH:mm:ss.fff} {Mark(level)} {message}");
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class Writer(RedisLogFormat owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var message = formatter(state, exception);
            if (exception is not null)
            {
                message += " " + exception;
            }
            owner.Write(logLevel, message);
        }
    }
}
