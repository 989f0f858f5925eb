using System.Globalization;
using System.Text;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Tests.Corpus;

/// <summary>Result rows as text the way DuckDB prints values cast to VARCHAR, so golden files and DuckDB's answers compare directly.</summary>
internal static class RowText
{
    public static List<string> Rows(IReadOnlyList<RecordBatch> batches, IReadOnlyList<SqlType> types)
    {
        var rows = new List<string>();
        foreach (var batch in batches)
            for (int i = 0; i < batch.Length; i++)
                rows.Add(string.Join(" | ", Enumerable.Range(0, batch.ColumnCount).Select(c => Value(ValueArrays.Get(batch.Column(c), types[c], i), types[c], top: true))));
        return rows;
    }

    public static string Value(object? v, SqlType type, bool top)
    {
        if (v is null) return top ? "NULL" : "NULL";
        return type.Kind switch
        {
            SqlTypeKind.Boolean => (bool)v ? "true" : "false",
            SqlTypeKind.Real => ValueText.Real((float)v),
            SqlTypeKind.Double => ValueText.Double((double)v),
            SqlTypeKind.Decimal => ValueText.Decimal((Int128)v, type.Scale),
            SqlTypeKind.Date => ValueText.Date((int)v),
            SqlTypeKind.Time => ValueText.Time((long)v),
            SqlTypeKind.Timestamp => ValueText.Timestamp((long)v, false),
            SqlTypeKind.TimestampTz => ValueText.Timestamp((long)v, true),
            SqlTypeKind.Interval => ValueText.Interval((IntervalValue)v),
            SqlTypeKind.Blob => ValueText.Blob((byte[])v),
            SqlTypeKind.Varchar => top ? (string)v : ValueText.Nested((string)v),
            SqlTypeKind.List => "[" + string.Join(", ", ((object?[])v).Select(x => Value(x, type.Element!, false))) + "]",
            SqlTypeKind.Struct => "{" + string.Join(", ", type.Fields!.Select((f, i) => $"{ValueText.Quoted(f.Name)}: {Value(((object?[])v)[i], f.Type, false)}")) + "}",
            _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        };
    }
}
