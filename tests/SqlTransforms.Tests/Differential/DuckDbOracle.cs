using System.Globalization;
using System.Text;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using DuckDB.NET.Data;

namespace DataPlane.SqlTransforms.Tests.Differential;

/// <summary>
/// DuckDB as the independent engine: a table named like our source with the same columns and values (written as
/// SQL literals), the same query, every output column cast to VARCHAR so rows compare as text.
/// </summary>
internal sealed class DuckDbOracle : IDisposable
{
    private readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public DuckDbOracle()
    {
        _connection.Open();
        Execute("SET TimeZone = 'UTC'");
    }

    /// <summary>
    /// DuckDB's optimizer rewrites expressions in ways that change which records fail (x * 3 = 9 becomes x = 3) and
    /// sometimes what a NULL gives; the random differential compares with plain evaluation.
    /// </summary>
    public void Optimizer(bool enabled) => Execute(enabled ? "PRAGMA enable_optimizer" : "PRAGMA disable_optimizer");

    public void Load(string table, IReadOnlyList<(string Name, SqlType Type, bool Nullable)> columns, IReadOnlyList<object?[]> rows)
    {
        Execute($"DROP TABLE IF EXISTS \"{table}\"");
        Execute($"CREATE TABLE \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c.Name}\" {SchemaText.DuckDb(c.Type)}"))})");
        for (int start = 0; start < rows.Count; start += 500)
        {
            var b = new StringBuilder($"INSERT INTO \"{table}\" VALUES ");
            for (int r = start; r < Math.Min(rows.Count, start + 500); r++)
            {
                if (r > start) b.Append(", ");
                b.Append('(').Append(string.Join(", ", columns.Select((c, i) => Literal(rows[r][i], c.Type)))).Append(')');
            }
            Execute(b.ToString());
        }
    }

    /// <summary><see cref="Query"/> with one of DuckDB's optimizer rules turned off (see <see cref="IntendedDifferences.DuckDbTopNRewrite"/>).</summary>
    public (List<string>? Rows, string? Error) QueryWithout(string optimizerRule, string sql)
    {
        Execute($"SET disabled_optimizers = '{optimizerRule}'");
        try { return Query(sql); }
        finally { Execute("SET disabled_optimizers = ''"); }
    }

    /// <summary>The rows as text, or the error DuckDB raised.</summary>
    public (List<string>? Rows, string? Error) Query(string sql)
    {
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT COLUMNS(*)::VARCHAR FROM ({sql})";
            using var reader = command.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read())
            {
                var values = new string[reader.FieldCount];
                for (int i = 0; i < values.Length; i++) values[i] = reader.IsDBNull(i) ? "NULL" : reader.GetString(i);
                rows.Add(string.Join(" | ", values));
            }
            return (rows, null);
        }
        catch (DuckDBException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// Whether DuckDB failed the query on a value (an overflow, a conversion, a value outside a function's domain, an invalid argument such as lpad's empty pad):
    /// where we drop and count the record instead.
    /// </summary>
    public static bool IsRecordError(string? error) =>
        error is not null && (error.Contains("Overflow", StringComparison.Ordinal) || error.Contains("Conversion Error", StringComparison.Ordinal)
            || error.Contains("Out of Range", StringComparison.Ordinal) || error.Contains("Invalid Input Error", StringComparison.Ordinal));

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static string Literal(object? v, SqlType type)
    {
        if (v is null) return "NULL";
        return type.Kind switch
        {
            SqlTypeKind.Boolean => (bool)v ? "true" : "false",
            SqlTypeKind.Integer or SqlTypeKind.BigInt => Convert.ToString(v, CultureInfo.InvariantCulture)!,
            SqlTypeKind.Real => $"'{ValueText.Real((float)v)}'::FLOAT",
            SqlTypeKind.Double => $"'{ValueText.Double((double)v)}'::DOUBLE",
            SqlTypeKind.Decimal => $"'{ValueText.Decimal((Int128)v, type.Scale)}'::{type}",
            SqlTypeKind.Date => $"DATE '{ValueText.Date((int)v)}'",
            SqlTypeKind.Time => $"TIME '{ValueText.Time((long)v)}'",
            SqlTypeKind.Timestamp => $"TIMESTAMP '{ValueText.Timestamp((long)v, false)}'",
            SqlTypeKind.TimestampTz => $"TIMESTAMPTZ '{ValueText.Timestamp((long)v, true)}'",
            SqlTypeKind.Varchar => "'" + ((string)v).Replace("'", "''", StringComparison.Ordinal) + "'",
            SqlTypeKind.Blob => "'" + ValueText.Blob((byte[])v).Replace("'", "''", StringComparison.Ordinal) + "'::BLOB",
            SqlTypeKind.Interval => $"INTERVAL '{ValueText.Interval((IntervalValue)v)}'",
            SqlTypeKind.List => $"[{string.Join(", ", ((object?[])v).Select(x => Literal(x, type.Element!)))}]::{SchemaText.DuckDb(type)}",
            SqlTypeKind.Struct => "{" + string.Join(", ", type.Fields!.Select((f, i) => $"'{f.Name}': {Literal(((object?[])v)[i], f.Type)}")) + "}",
            _ => throw new NotSupportedException(type.ToString()),
        };
    }

    public void Dispose() => _connection.Dispose();
}
