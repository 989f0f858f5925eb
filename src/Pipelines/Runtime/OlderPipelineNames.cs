namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The pipeline SQL before the engine (<c>INSERT INTO &lt;sink&gt; SELECT * | &lt;columns&gt; FROM &lt;stream&gt; [WHERE
/// ...]</c>) reserved only its own few keywords: a column, sink or stream could be called end, offset, left, desc, window...
/// without quotes, where the engine's grammar (DuckDB's) needs them quoted. So that every stored definition stays valid,
/// a statement that does not compile because such a word stands where a name should is compiled again with that word
/// quoted, exactly as written (the older SQL matched names exactly). Only SQL that fails otherwise is retried, so the
/// meaning of SQL the engine takes as written never changes.
/// </summary>
internal static class OlderPipelineNames
{
    /// <summary>How many words are quoted before giving up (each is a compile of the statement again).</summary>
    public const int MaxQuoted = 16;

    /// <summary>The words the older SQL reserved (and TRUE and FALSE, its literals): never quoted.</summary>
    private static readonly HashSet<string> OlderKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "INSERT", "INTO", "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IS", "NULL", "GROUP", "ORDER", "BY", "LIMIT",
        "TRUE", "FALSE",
    };

    /// <summary>
    /// <paramref name="sql"/> with the bare word starting at <paramref name="offset"/> (where the engine stopped) in
    /// double quotes; false when no word starts there, or it is one the older SQL did not take as a name either.
    /// </summary>
    public static bool TryQuote(string sql, int offset, out string quoted)
    {
        quoted = sql;
        if (offset < 0 || offset >= sql.Length || !(char.IsLetter(sql[offset]) || sql[offset] == '_'))
            return false;
        if (offset > 0 && IsWordChar(sql[offset - 1]) || offset > 0 && sql[offset - 1] == '"')
            return false;
        int end = offset;
        while (end < sql.Length && IsWordChar(sql[end])) end++;
        if (end < sql.Length && sql[end] == '"')
            return false;
        var word = sql[offset..end];
        if (OlderKeywords.Contains(word))
            return false;
        quoted = sql[..offset] + "\"" + word + "\"" + sql[end..];
        return true;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
