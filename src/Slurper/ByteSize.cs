using System.Globalization;

namespace DataPlane.Slurper;

/// <summary>Sizes as people type them: <c>4096</c>, <c>64KB</c>, <c>16MiB</c>, <c>5GB</c> (K/M/G/T, powers of 1024).</summary>
public static class ByteSize
{
    public static long Parse(string text, string option)
    {
        var s = text.Trim().ToUpperInvariant().Replace("IB", "").TrimEnd('B');
        long factor = 1;
        if (s.Length > 0 && "KMGT".IndexOf(s[^1]) is var i and >= 0)
        {
            factor = 1L << (10 * (i + 1));
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0)
            throw new ArgumentException($"{option} '{text}' is not a size; use bytes or a unit, e.g. 5GB, 64MiB, 4096.");
        return (long)(n * factor);
    }
}
