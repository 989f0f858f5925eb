namespace DataPlane.Storage;

/// <summary>
/// S3 lists keys in the byte order of their UTF-8 encoding. That equals code-point order, which differs from
/// <see cref="string.CompareOrdinal(string, string)"/> (UTF-16 units) only for surrogates against U+E000..U+FFFF.
/// </summary>
internal sealed class KeyOrder : IComparer<string>
{
    public static readonly KeyOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a != b)
                return Rank(a) - Rank(b);
        }
        return x.Length - y.Length;
    }

    // Moves surrogates above U+E000..U+FFFF, which is where their code points (U+10000 and up) sort.
    private static int Rank(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
