namespace DataPlane.SqlTransforms.Diagnostics;

/// <summary>A place in the SQL text: its offset and the 1-based line and column a user reads.</summary>
internal readonly record struct SourcePosition(int Offset, int Line, int Column)
{
    public static SourcePosition At(string sql, int offset)
    {
        offset = Math.Clamp(offset, 0, sql.Length);
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset; i++)
            if (sql[i] == '\n') { line++; lineStart = i + 1; }
        return new SourcePosition(offset, line, offset - lineStart + 1);
    }

    public string LineText(string sql)
    {
        int start = Offset - (Column - 1);
        int end = sql.IndexOf('\n', Math.Min(Offset, sql.Length));
        if (end < 0) end = sql.Length;
        return sql[start..end].TrimEnd('\r');
    }
}
