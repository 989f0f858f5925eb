using System.Text;

namespace DataPlane.SqlTransforms.Tests.Robustness;

/// <summary>
/// Random SQL text for robustness runs: valid statements from a small grammar, then mutated (tokens dropped,
/// duplicated, swapped or replaced, characters flipped, brackets piled up), so most inputs are nearly valid and
/// reach deep into the parser and binder before they fail.
/// </summary>
internal sealed class SqlMutator(Random random)
{
    private static readonly string[] Columns = ["id", "name", "score", "ts", "tags", "s", "s.f", "s.g", "tags[1]", "ok", "d", "amount", "\"Name\"", "nam", "value"];
    private static readonly string[] Functions = ["abs", "round", "floor", "ceil", "mod", "greatest", "least", "coalesce", "nullif", "if", "lower", "upper", "length", "trim", "substr", "replace", "concat", "split_part", "starts_with", "date_trunc", "date_part", "now", "count", "sum", "min", "max", "avg", "unnest", "nope", "upperr"];
    private static readonly string[] Operators = ["+", "-", "*", "/", "%", "//", "||", "=", "<>", "!=", "<", "<=", ">", ">=", "AND", "OR", "IS DISTINCT FROM", "IS NOT DISTINCT FROM", "LIKE", "ILIKE", "NOT LIKE", "::"];
    private static readonly string[] Literals = ["1", "0", "-1", "2147483647", "9223372036854775807", "-9223372036854775808", "1.5", "1e308", "'a'", "''", "'é✓'", "NULL", "TRUE", "FALSE", "INTERVAL '1' DAY", "DATE '2024-01-01'", "TIMESTAMP '2024-01-01 10:00:00'", "'2024-02-30'", "[1, 2]", "{'a': 1}"];
    private static readonly string[] Types = ["INTEGER", "BIGINT", "DOUBLE", "REAL", "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "DECIMAL(10,2)", "BLOB", "INTERVAL", "UUID", "TIME", "INT[]", "WHAT"];
    private static readonly string[] Noise = ["(", ")", ",", ";", "[", "]", "{", "}", ".", "*", "'", "\"", "SELECT", "FROM", "WHERE", "CASE", "WHEN", "THEN", "END", "NOT", "IN", "BETWEEN", "AND", "GROUP BY", "ORDER BY", "LIMIT", "UNION ALL", "WITH", "AS", "\u0000", "\n", "--", "/*", "e", "::", "😀"];

    public string Next() => Mutations(Statement(), random.Next(0, 4));

    public string Mutations(string sql, int count)
    {
        for (int i = 0; i < count; i++) sql = Mutate(sql);
        return sql;
    }

    public string Statement()
    {
        var b = new StringBuilder();
        if (random.Next(4) == 0) b.Append("INSERT INTO sink ");
        if (random.Next(6) == 0) b.Append("WITH w AS (SELECT * FROM events) ");
        b.Append("SELECT ");
        if (random.Next(8) == 0) b.Append("DISTINCT ");
        int items = random.Next(1, 4);
        for (int i = 0; i < items; i++)
        {
            if (i > 0) b.Append(", ");
            if (random.Next(10) == 0) b.Append('*');
            else
            {
                b.Append(Expression(random.Next(0, 5)));
                if (random.Next(3) == 0) b.Append(" AS c").Append(i);
            }
        }
        b.Append(" FROM ").Append(random.Next(6) switch { 0 => "w", 1 => "(SELECT * FROM events) e", 2 => "nowhere", _ => "events" });
        if (random.Next(2) == 0) b.Append(" WHERE ").Append(Expression(random.Next(0, 5)));
        if (random.Next(8) == 0) b.Append(" GROUP BY 1");
        if (random.Next(10) == 0) b.Append(" UNION ALL SELECT ").Append(Expression(2)).Append(" FROM events");
        if (random.Next(8) == 0) b.Append(" ORDER BY 1 DESC");
        if (random.Next(8) == 0) b.Append(" LIMIT ").Append(random.Next(-2, 5));
        return b.ToString();
    }

    private string Expression(int depth)
    {
        if (depth <= 0)
            return random.Next(2) == 0 ? Pick(Columns) : Pick(Literals);
        return random.Next(9) switch
        {
            0 => $"{Expression(depth - 1)} {Pick(Operators)} {(random.Next(2) == 0 ? Expression(depth - 1) : Pick(Types))}",
            1 => $"{Pick(Functions)}({string.Join(", ", Enumerable.Range(0, random.Next(0, 4)).Select(_ => Expression(depth - 1)))})",
            2 => $"CASE WHEN {Expression(depth - 1)} THEN {Expression(depth - 1)} ELSE {Expression(depth - 1)} END",
            3 => $"{(random.Next(2) == 0 ? "TRY_CAST" : "CAST")}({Expression(depth - 1)} AS {Pick(Types)})",
            4 => $"{Expression(depth - 1)} {(random.Next(2) == 0 ? "NOT " : "")}IN ({Expression(depth - 1)}, {Expression(depth - 1)})",
            5 => $"{Expression(depth - 1)} BETWEEN {Expression(depth - 1)} AND {Expression(depth - 1)}",
            6 => $"({Expression(depth - 1)}) IS {(random.Next(2) == 0 ? "NOT " : "")}NULL",
            7 => $"NOT {Expression(depth - 1)}",
            _ => $"extract({(random.Next(2) == 0 ? "hour" : "century")} FROM {Expression(depth - 1)})",
        };
    }

    private string Mutate(string sql)
    {
        if (sql.Length == 0) return Pick(Noise);
        int at = random.Next(sql.Length);
        switch (random.Next(7))
        {
            case 0: return sql.Remove(at, Math.Min(random.Next(1, 6), sql.Length - at));
            case 1: return sql.Insert(at, Pick(Noise));
            case 2: return sql.Insert(at, " " + Pick(random.Next(2) == 0 ? Operators : Literals) + " ");
            case 3:
            {
                int length = Math.Min(random.Next(1, 20), sql.Length - at);
                return sql.Insert(random.Next(sql.Length), sql.Substring(at, length));
            }
            case 4: return sql[..at] + (char)random.Next(32, 127) + sql[(at + 1)..];
            case 5: return new string('(', random.Next(1, 40)) + sql + new string(')', random.Next(0, 40));
            default: return sql[..at] + " " + Pick(Columns) + " " + sql[at..];
        }
    }

    private string Pick(string[] options) => options[random.Next(options.Length)];
}
