using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Tests.Corpus;

/// <summary>Reads "id BIGINT NOT NULL, tags VARCHAR[], s STRUCT(f INTEGER, g VARCHAR)" into columns (and writes types back for DuckDB).</summary>
internal static class SchemaText
{
    public static List<(string Name, SqlType Type, bool Nullable)> Parse(string text)
    {
        var result = new List<(string, SqlType, bool)>();
        foreach (var part in Split(text))
        {
            var p = part.Trim();
            if (p.Length == 0) continue;
            bool notNull = p.EndsWith(" NOT NULL", StringComparison.OrdinalIgnoreCase);
            if (notNull) p = p[..^9].Trim();
            int space = p.IndexOf(' ');
            result.Add((p[..space], Type(p[(space + 1)..].Trim()), !notNull));
        }
        return result;
    }

    public static SqlType Type(string t)
    {
        if (t.EndsWith("[]", StringComparison.Ordinal)) return SqlType.List(Type(t[..^2]));
        if (t.StartsWith("STRUCT(", StringComparison.OrdinalIgnoreCase))
            return SqlType.Struct(Parse(t[7..^1]).Select(f => new StructField(f.Name, f.Type, f.Nullable)).ToList());
        if (t.StartsWith("DECIMAL(", StringComparison.OrdinalIgnoreCase))
        {
            var ps = t[8..^1].Split(',');
            return SqlType.Decimal(int.Parse(ps[0]), int.Parse(ps[1]));
        }
        return t.ToUpperInvariant() switch
        {
            "BOOLEAN" => SqlType.Boolean,
            "INTEGER" => SqlType.Integer,
            "BIGINT" => SqlType.BigInt,
            "FLOAT" => SqlType.Real,
            "DOUBLE" => SqlType.Double,
            "DATE" => SqlType.Date,
            "TIME" => SqlType.Time,
            "TIMESTAMP" => SqlType.Timestamp,
            "TIMESTAMPTZ" => SqlType.TimestampTz,
            "VARCHAR" => SqlType.Varchar,
            "BLOB" => SqlType.Blob,
            "INTERVAL" => SqlType.Interval,
            _ => throw new FormatException($"type {t}"),
        };
    }

    /// <summary>The type as DuckDB spells it in CREATE TABLE.</summary>
    public static string DuckDb(SqlType t) => t.Kind switch
    {
        SqlTypeKind.List => DuckDb(t.Element!) + "[]",
        SqlTypeKind.Struct => "STRUCT(" + string.Join(", ", t.Fields!.Select(f => $"\"{f.Name}\" {DuckDb(f.Type)}")) + ")",
        SqlTypeKind.TimestampTz => "TIMESTAMPTZ",
        _ => t.ToString(),
    };

    private static IEnumerable<string> Split(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0) { yield return text[start..i]; start = i + 1; }
        }
        yield return text[start..];
    }
}
