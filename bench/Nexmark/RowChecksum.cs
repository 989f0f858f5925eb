using System.Globalization;
using System.IO.Hashing;
using System.Numerics;
using System.Text;
using Apache.Arrow;
using DuckDB.NET.Data;

namespace DataPlane.Benchmarks.Nexmark;

/// <summary>
/// An order-independent checksum of a query's rows, computed alike over the engine's output batches and DuckDB's
/// result: each row's values as canonical text (integers and integral decimals as digits, other numbers rounded to 4
/// decimals, timestamps as microseconds since the epoch, NULL as a mark of its own), hashed with XXH64 and summed.
/// Only for checking answers, never timed: it makes a string per row.
/// </summary>
internal sealed class RowChecksum
{
    private const char Separator = '\u001f';
    private readonly StringBuilder _row = new();

    public long Rows { get; private set; }
    public ulong Value { get; private set; }

    public void Add(RecordBatch batch)
    {
        for (int row = 0; row < batch.Length; row++)
        {
            _row.Clear();
            foreach (var column in batch.Arrays)
            {
                _row.Append(column.IsNull(row) ? "\u2205" : Canonical(column, row)).Append(Separator);
            }
            AddRow();
        }
    }

    /// <summary>The checksum of DuckDB's answer to <paramref name="sql"/>, timestamps read as epoch_us.</summary>
    public static RowChecksum Of(DuckDBConnection duck, string sql)
    {
        var columns = new List<string>();
        using (var describe = duck.CreateCommand())
        {
            describe.CommandText = $"DESCRIBE ({sql})";
            using var reader = describe.ExecuteReader();
            while (reader.Read())
            {
                string name = "\"" + reader.GetString(0).Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
                columns.Add(reader.GetString(1).StartsWith("TIMESTAMP", StringComparison.Ordinal) ? $"epoch_us({name})" : name);
            }
        }
        var checksum = new RowChecksum();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns)} FROM ({sql})";
        using (var rows = command.ExecuteReader())
            while (rows.Read())
            {
                checksum._row.Clear();
                for (int i = 0; i < rows.FieldCount; i++)
                    checksum._row.Append(rows.IsDBNull(i) ? "\u2205" : Canonical(rows.GetValue(i))).Append(Separator);
                checksum.AddRow();
            }
        return checksum;
    }

    private void AddRow()
    {
        Rows++;
        Value += XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(_row.ToString()));
    }

    private static string Canonical(IArrowArray column, int row) => column switch
    {
        Int64Array a => Canonical(a.GetValue(row)!.Value),
        Int32Array a => Canonical(a.GetValue(row)!.Value),
        Int16Array a => Canonical(a.GetValue(row)!.Value),
        DoubleArray a => Canonical(a.GetValue(row)!.Value),
        FloatArray a => Canonical(a.GetValue(row)!.Value),
        Decimal128Array a => Canonical(a.GetValue(row)!.Value),
        StringArray a => a.GetString(row),
        BooleanArray a => Canonical(a.GetValue(row)!.Value),
        TimestampArray a => Canonical(Micros(a, row)),
        _ => throw new NotSupportedException($"checksum of a {column.Data.DataType.Name} column"),
    };

    private static long Micros(TimestampArray a, int row)
    {
        long value = a.Values[row];
        return ((Apache.Arrow.Types.TimestampType)a.Data.DataType).Unit switch
        {
            Apache.Arrow.Types.TimeUnit.Second => value * 1_000_000,
            Apache.Arrow.Types.TimeUnit.Millisecond => value * 1_000,
            Apache.Arrow.Types.TimeUnit.Microsecond => value,
            _ => value / 1_000,
        };
    }

    private static string Canonical(object value) => value switch
    {
        long or int or short or sbyte or byte or ushort or uint or ulong => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        decimal d => Math.Round(d, 4).ToString("0.####", CultureInfo.InvariantCulture),
        double d => Math.Round((decimal)d, 4).ToString("0.####", CultureInfo.InvariantCulture),
        float f => Math.Round((decimal)f, 4).ToString("0.####", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s => s,
        _ => throw new NotSupportedException($"checksum of a {value.GetType().Name} value"),
    };
}
