namespace Tessera.Server.Persistence;

/// <summary>
/// Redis's debugDelay, behind its hidden test options rdb-key-save-delay and key-load-delay: a pause per key of
/// the given microseconds, or for a negative value one microsecond with probability 1/|value|. Sleeps go in whole
/// milliseconds, so the pauses owed are added up and slept once they reach one.
/// </summary>
internal sealed class DebugDelay
{
    private double _owedMicros;

    /// <summary>Owes the pause for <paramref name="keys"/> keys at <paramref name="micros"/> each, sleeping what adds up.</summary>
    public void Add(long micros, long keys = 1)
    {
        if (micros == 0 || keys <= 0)
        {
            return;
        }
        _owedMicros += micros > 0 ? (double)micros * keys : keys / (double)-micros;
        if (_owedMicros >= 1000)
        {
            var millis = (int)Math.Min(int.MaxValue, _owedMicros / 1000);
            _owedMicros -= millis * 1000.0;
            Thread.Sleep(millis);
        }
    }
}
