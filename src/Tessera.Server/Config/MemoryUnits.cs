namespace Tessera.Server.Config;

/// <summary>Redis's memory values: a number with an optional unit (b, k=1000, kb=1024, m, mb, g, gb; any case).</summary>
internal static class MemoryUnits
{
    /// <summary>Parses like Redis's <c>memtoull</c>; false for anything else, negative numbers included.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var digits = text.Length;
        while (digits > 0 && !char.IsAsciiDigit(text[digits - 1]))
        {
            digits--;
        }
        long multiplier = text[digits..].ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" => 1000,
            "kb" => 1024,
            "m" => 1000 * 1000,
            "mb" => 1024 * 1024,
            "g" => 1000L * 1000 * 1000,
            "gb" => 1024L * 1024 * 1024,
            _ => 0,
        };
        if (multiplier == 0 || digits == 0 || !ulong.TryParse(text.AsSpan(0, digits), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        var result = (System.Numerics.BigInteger)value * multiplier;
        if (result > long.MaxValue)
        {
            return false;
        }
        bytes = (long)result;
        return true;
    }
}
