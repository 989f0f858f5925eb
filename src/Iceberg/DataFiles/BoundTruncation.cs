namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Truncated lower/upper bounds as Iceberg writes them for strings and binary: a lower bound is a prefix (the first L
/// code points of a string, the first L bytes of binary); an upper bound is a prefix whose last unit is incremented
/// so that it still sorts after every value it covers, or none when no such prefix exists.
/// </summary>
internal static class BoundTruncation
{
    public static byte[] StringLower(ReadOnlySpan<byte> utf8, int length) => utf8[..PrefixBytes(utf8, length)].ToArray();

    public static byte[]? StringUpper(ReadOnlySpan<byte> utf8, int length)
    {
        int prefix = PrefixBytes(utf8, length);
        if (prefix == utf8.Length)
            return utf8.ToArray();
        // Walk back over the kept code points; the first that can be incremented ends the bound.
        var codePoints = new List<(int Start, int Value)>();
        for (int i = 0; i < prefix;)
        {
            int n = SequenceLength(utf8[i]);
            codePoints.Add((i, Decode(utf8.Slice(i, n))));
            i += n;
        }
        for (int k = codePoints.Count - 1; k >= 0; k--)
        {
            int next = codePoints[k].Value + 1;
            if (next is >= 0xD800 and <= 0xDFFF)
                next = 0xE000;
            if (next > 0x10FFFF)
                continue;
            var start = codePoints[k].Start;
            var result = new byte[start + Utf8Length(next)];
            utf8[..start].CopyTo(result);
            new System.Text.Rune(next).EncodeToUtf8(result.AsSpan(start));
            return result;
        }
        return null;
    }

    public static byte[] BinaryLower(ReadOnlySpan<byte> bytes, int length) => bytes[..Math.Min(length, bytes.Length)].ToArray();

    public static byte[]? BinaryUpper(ReadOnlySpan<byte> bytes, int length)
    {
        if (bytes.Length <= length)
            return bytes.ToArray();
        for (int i = length - 1; i >= 0; i--)
        {
            if (bytes[i] == 0xFF)
                continue;
            var result = bytes[..(i + 1)].ToArray();
            result[i]++;
            return result;
        }
        return null;
    }

    /// <summary>Bytes taken by the first <paramref name="codePoints"/> code points of a UTF-8 string.</summary>
    private static int PrefixBytes(ReadOnlySpan<byte> utf8, int codePoints)
    {
        int i = 0;
        for (int n = 0; n < codePoints && i < utf8.Length; n++)
            i += SequenceLength(utf8[i]);
        return Math.Min(i, utf8.Length);
    }

    private static int SequenceLength(byte lead) => lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;

    private static int Utf8Length(int codePoint) => codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

    private static int Decode(ReadOnlySpan<byte> s) => s.Length switch
    {
        1 => s[0],
        2 => ((s[0] & 0x1F) << 6) | (s[1] & 0x3F),
        3 => ((s[0] & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F),
        _ => ((s[0] & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F),
    };
}
