using System.Buffers.Binary;
using System.Buffers.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.Benchmarks.TableFormat;

/// <summary>
/// The benchmark's rows (id long, name string, value double, ts timestamptz) as Arrow batches. Every value is a
/// closed formula of the row number so DuckDB can generate the very same rows in SQL (see <see cref="DuckDbSelect"/>).
/// </summary>
internal static class BenchRows
{
    public const long EpochMicros = 1_700_000_000_000_000;

    public static readonly Schema Schema = new Schema.Builder()
        .Field(f => f.Name("id").DataType(Int64Type.Default).Nullable(false).Metadata("PARQUET:field_id", "1"))
        .Field(f => f.Name("name").DataType(StringType.Default).Nullable(true).Metadata("PARQUET:field_id", "2"))
        .Field(f => f.Name("value").DataType(DoubleType.Default).Nullable(true).Metadata("PARQUET:field_id", "3"))
        .Field(f => f.Name("ts").DataType(new TimestampType(TimeUnit.Microsecond, "UTC")).Nullable(true).Metadata("PARQUET:field_id", "4"))
        .Build();

    public static string DuckDbSelect(long rows) =>
        $"SELECT range AS id, 'user-' || ((range * 7919) % 100003)::VARCHAR AS name, " +
        $"((range * 31337) % 1000003) / 100.0 AS value, " +
        $"make_timestamp({EpochMicros} + range * 1000 + (range * 13) % 1000)::TIMESTAMPTZ AS ts FROM range(0, {rows})";

    public static long Id(long i) => i;
    public static long NameKey(long i) => i * 7919 % 100003;
    public static double Value(long i) => i * 31337 % 1000003 / 100.0;
    public static long TsMicros(long i) => EpochMicros + i * 1000 + i * 13 % 1000;

    public static List<RecordBatch> Generate(long rows, int batchRows = 131_072)
    {
        var batches = new List<RecordBatch>();
        for (long start = 0; start < rows; start += batchRows)
            batches.Add(Batch(start, (int)Math.Min(batchRows, rows - start)));
        return batches;
    }

    private static RecordBatch Batch(long start, int n)
    {
        var ids = new byte[n * 8];
        var values = new byte[n * 8];
        var ts = new byte[n * 8];
        var offsets = new byte[(n + 1) * 4];
        var chars = new byte[n * 12];
        int pos = 0;
        Span<byte> digits = stackalloc byte[20];
        for (int r = 0; r < n; r++)
        {
            long i = start + r;
            BinaryPrimitives.WriteInt64LittleEndian(ids.AsSpan(r * 8), Id(i));
            BinaryPrimitives.WriteDoubleLittleEndian(values.AsSpan(r * 8), Value(i));
            BinaryPrimitives.WriteInt64LittleEndian(ts.AsSpan(r * 8), TsMicros(i));
            BinaryPrimitives.WriteInt32LittleEndian(offsets.AsSpan(r * 4), pos);
            "user-"u8.CopyTo(chars.AsSpan(pos));
            pos += 5;
            Utf8Formatter.TryFormat(NameKey(i), digits, out int written);
            digits[..written].CopyTo(chars.AsSpan(pos));
            pos += written;
        }
        BinaryPrimitives.WriteInt32LittleEndian(offsets.AsSpan(n * 4), pos);
        var tsType = (TimestampType)Schema.FieldsList[3].DataType;
        return new RecordBatch(Schema,
        [
            new Int64Array(new ArrowBuffer(ids), ArrowBuffer.Empty, n, 0, 0),
            new StringArray(n, new ArrowBuffer(offsets), new ArrowBuffer(chars.AsMemory(0, pos).ToArray()), ArrowBuffer.Empty, 0, 0),
            new DoubleArray(new ArrowBuffer(values), ArrowBuffer.Empty, n, 0, 0),
            new TimestampArray(tsType, new ArrowBuffer(ts), ArrowBuffer.Empty, n, 0, 0),
        ], n);
    }
}
