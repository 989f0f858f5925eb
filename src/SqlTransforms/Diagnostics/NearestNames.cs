namespace DataPlane.SqlTransforms.Diagnostics;

/// <summary>"Did you mean" suggestions: the candidates closest to a misspelt name by edit distance, ignoring case.</summary>
internal static class NearestNames
{
    /// <summary>A phrase such as <c>; did you mean "user_id"?</c>, or empty when nothing is close.</summary>
    public static string Suggest(string name, IEnumerable<string> candidates)
    {
        var best = new List<string>();
        int bestDistance = int.MaxValue;
        int allowed = Math.Max(1, Math.Min(3, name.Length / 3));
        foreach (var c in candidates.Distinct(StringComparer.Ordinal))
        {
            if (c.Length > 256) continue;
            int d = Distance(name.ToLowerInvariant(), c.ToLowerInvariant());
            if (d > allowed) continue;
            if (d < bestDistance) { best.Clear(); bestDistance = d; }
            if (d == bestDistance) best.Add(c);
        }
        return best.Count == 0 ? "" : $"; did you mean {string.Join(" or ", best.Take(3).Select(b => "\"" + b + "\""))}?";
    }

    private static int Distance(string a, string b)
    {
        if (a.Length > 256 || b.Length > 256) return int.MaxValue;
        Span<int> previous = stackalloc int[b.Length + 1];
        Span<int> current = stackalloc int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            current.CopyTo(previous);
        }
        return previous[b.Length];
    }
}
