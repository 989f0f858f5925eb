namespace DataPlane.SqlTransforms.Diagnostics;

/// <summary>
/// A statement that cannot be compiled: where (1-based line and column, the line itself with a caret under the
/// spot) and what is wrong or was expected. The message is complete on its own, so a caller can hand it to a user.
/// </summary>
public sealed class SqlException : Exception
{
    internal SqlException(string problem, SourcePosition position, string sql)
        : base(Format(problem, position, sql))
    {
        Problem = problem;
        Line = position.Line;
        Column = position.Column;
        Offset = position.Offset;
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Problem { get; }
    public int Line { get; }
    public int Column { get; }
    /// <summary>0-based character offset in the SQL text.</summary>
    public int Offset { get; }

    private static string Format(string problem, SourcePosition position, string sql)
    {
        var line = position.LineText(sql);
        // A tab would move the caret out of line with the text: show tabs as single spaces.
        var shown = line.Replace('\t', ' ');
        if (shown.Length > 200)
        {
            int from = Math.Max(0, Math.Min(position.Column - 100, shown.Length - 200));
            shown = (from > 0 ? "..." : "") + shown.Substring(from, Math.Min(200, shown.Length - from));
            int caret = position.Column - from + (from > 0 ? 3 : 0);
            return $"SQL error at line {position.Line}, column {position.Column}: {problem}\n  {shown}\n  {new string(' ', Math.Max(0, caret - 1))}^";
        }
        return $"SQL error at line {position.Line}, column {position.Column}: {problem}\n  {shown}\n  {new string(' ', Math.Max(0, position.Column - 1))}^";
    }
}
