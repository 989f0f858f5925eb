using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// A DataPlane database's table as a lookup table (<c>db.&lt;database&gt;.&lt;table&gt;</c>). Its version is the
/// database's log position: a check asks for the newest one, and a reload reads the table where a session with that
/// bookmark may be served (a replica that has applied it, else the primary), so the rows are never older than the
/// database was when the check began, nor older than the rows read before. Columns take their types from the
/// declared ones, by SQLite's affinity rules (INT: BIGINT, REAL/FLOAT/DOUBLE/NUMERIC: DOUBLE, BOOL: BOOLEAN, BLOB:
/// BLOB, others: VARCHAR); a value that does not fit its column's type is NULL.
/// </summary>
internal sealed class DatabaseLookupSource(IDatabaseReader reader, string database, string table, long maxBytes) : ILookupSource
{
    public string Name { get; } = $"db.{database}.{table}";

    private string Quoted => "\"" + table.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public async Task<Schema> SchemaAsync(CancellationToken cancellationToken)
    {
        string bookmark = await reader.LatestBookmarkAsync(database, cancellationToken);
        var info = await reader.ReadAsync(database, $"SELECT name, type FROM pragma_table_info('{table.Replace("'", "''", StringComparison.Ordinal)}')", bookmark, cancellationToken);
        if (info.Rows.Count == 0)
            throw new KeyNotFoundException($"No table '{table}' in database '{database}' (JOIN {Name}).");
        var schema = new Schema(info.Rows.Select(r => new Field((string)r[0]!, TypeOf(r[1] as string ?? ""), nullable: true)), null);
        // The table's size as its values' bytes, summed by the database: refused here rather than at the first load.
        string sum = string.Join(" + ", schema.FieldsList.Select(f => $"coalesce(length(CAST({Column(f.Name)} AS BLOB)), 0)"));
        var size = await reader.ReadAsync(database, $"SELECT coalesce(sum({sum}), 0) FROM {Quoted}", bookmark, cancellationToken);
        LookupLimits.CheckSize(Name, Convert.ToInt64(size.Rows[0][0], CultureInfo.InvariantCulture), maxBytes);
        return schema;
    }

    public async Task<LookupLoad?> LoadIfChangedAsync(Schema schema, string? loaded, CancellationToken cancellationToken)
    {
        string latest = await reader.LatestBookmarkAsync(database, cancellationToken);
        if (latest == loaded)
            return null;
        // Bookmarks compare as strings like their positions: a session never goes back from the rows in hand.
        string bookmark = loaded is not null && string.CompareOrdinal(loaded, latest) > 0 ? loaded : latest;
        var read = await reader.ReadAsync(database, $"SELECT {string.Join(", ", schema.FieldsList.Select(f => Column(f.Name)))} FROM {Quoted}", bookmark, cancellationToken);
        long bytes = 0;
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (int c = 0; c < columns.Length; c++)
            columns[c] = Build(schema.FieldsList[c].DataType, read.Rows, c, ref bytes);
        LookupLimits.CheckSize(Name, bytes, maxBytes);
        return new LookupLoad(read.Rows.Count == 0 ? LookupRows.Empty : new RecordBatch(schema, columns, read.Rows.Count), read.Bookmark, read.ServedBy);
    }

    private static string Column(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1), with BOOL apart.</summary>
    private static IArrowType TypeOf(string declared)
    {
        var t = declared.ToUpperInvariant();
        if (t.Contains("INT", StringComparison.Ordinal)) return Int64Type.Default;
        if (t.Contains("CHAR", StringComparison.Ordinal) || t.Contains("CLOB", StringComparison.Ordinal) || t.Contains("TEXT", StringComparison.Ordinal)) return StringType.Default;
        if (t.Contains("BLOB", StringComparison.Ordinal)) return BinaryType.Default;
        if (t.Contains("BOOL", StringComparison.Ordinal)) return BooleanType.Default;
        if (t.Contains("REAL", StringComparison.Ordinal) || t.Contains("FLOA", StringComparison.Ordinal) || t.Contains("DOUB", StringComparison.Ordinal)
            || t.Contains("NUM", StringComparison.Ordinal) || t.Contains("DEC", StringComparison.Ordinal)) return DoubleType.Default;
        return StringType.Default;
    }

    private static IArrowArray Build(IArrowType type, IReadOnlyList<object?[]> rows, int c, ref long bytes)
    {
        switch (type)
        {
            case Int64Type:
            {
                var b = new Int64Array.Builder();
                foreach (var row in rows)
                {
                    long? v = row[c] switch { long l => l, double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => (long)d, string s when long.TryParse(s, CultureInfo.InvariantCulture, out long p) => p, _ => null };
                    if (v is { } x) b.Append(x); else b.AppendNull();
                    bytes += 8;
                }
                return b.Build();
            }
            case DoubleType:
            {
                var b = new DoubleArray.Builder();
                foreach (var row in rows)
                {
                    double? v = row[c] switch { double d => d, long l => l, string s when double.TryParse(s, CultureInfo.InvariantCulture, out double p) => p, _ => null };
                    if (v is { } x) b.Append(x); else b.AppendNull();
                    bytes += 8;
                }
                return b.Build();
            }
            case BooleanType:
            {
                var b = new BooleanArray.Builder();
                foreach (var row in rows)
                {
                    bool? v = row[c] switch { long l => l != 0, double d => d != 0, _ => null };
                    if (v is { } x) b.Append(x); else b.AppendNull();
                    bytes += 1;
                }
                return b.Build();
            }
            case BinaryType:
            {
                var b = new BinaryArray.Builder();
                foreach (var row in rows)
                {
                    byte[]? v = row[c] switch { byte[] a => a, string s => Encoding.UTF8.GetBytes(s), _ => null };
                    if (v is not null) { b.Append(v.AsSpan()); bytes += v.Length; } else b.AppendNull();
                }
                return b.Build();
            }
            default:
            {
                var b = new StringArray.Builder();
                foreach (var row in rows)
                {
                    string? v = row[c] switch
                    {
                        null => null,
                        string s => s,
                        byte[] a => Encoding.UTF8.GetString(a),
                        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                        var o => o.ToString(),
                    };
                    if (v is not null) { b.Append(v); bytes += v.Length; } else b.AppendNull();
                }
                return b.Build();
            }
        }
    }
}
