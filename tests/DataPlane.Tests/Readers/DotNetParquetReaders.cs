using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using DataPlane.Iceberg.Types;
using DuckDB.NET.Data;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;
using IcebergListType = DataPlane.Iceberg.Types.ListType;
using IcebergMapType = DataPlane.Iceberg.Types.MapType;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using IcebergStructType = DataPlane.Iceberg.Types.StructType;

namespace DataPlane.Tests.Readers;

/// <summary>
/// The readers a .NET user has: DuckDB (DuckDB.NET), ParquetSharp (Arrow C++) and Parquet.Net (managed). Each returns
/// the files' rows in the canonical form of parquet-readers/canonical.mjs.
/// </summary>
public static class DotNetParquetReaders
{
    /// <summary>DuckDB's read_parquet over the files, each column cast to the canonical text in SQL (the schema of <see cref="EveryTypeTables"/>).</summary>
    public static List<JsonElement> DuckDb(IEnumerable<string> files)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var list = string.Join(", ", files.Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'"));
        command.CommandText = $"""
            SELECT to_json(struct_pack(id := id::VARCHAR, b := b, i := i::VARCHAR, l := l::VARCHAR, f := f, d := d,
              dec9 := dec9::VARCHAR, dec18 := dec18::VARCHAR, dec38 := dec38::VARCHAR, day := (day - DATE '1970-01-01')::VARCHAR,
              t := ((hour(t) * 3600 + minute(t) * 60)::BIGINT * 1000000 + microsecond(t))::VARCHAR,
              ts := epoch_us(ts)::VARCHAR, tstz := epoch_us(tstz)::VARCHAR, s := s, u := replace(u::VARCHAR, '-', ''),
              fx := lower(hex(fx)), bin := lower(hex(bin)), st := st, lst := lst, m := m))::VARCHAR
            FROM read_parquet([{list}])
            """;
        using var reader = command.ExecuteReader();
        var rows = new List<JsonElement>();
        while (reader.Read())
            rows.Add(JsonDocument.Parse(reader.GetString(0)).RootElement.Clone());
        return rows;
    }

    /// <summary>ParquetSharp's Arrow reader (Arrow C++), its Arrow arrays walked by type.</summary>
    public static async Task<List<JsonElement>> ParquetSharpAsync(string file)
    {
        var rows = new List<JsonElement>();
        using var reader = new ParquetSharp.Arrow.FileReader(file);
        using var batches = reader.GetRecordBatchReader();
        while (await batches.ReadNextRecordBatchAsync() is { } batch)
        {
            using (batch)
            {
                for (int r = 0; r < batch.Length; r++)
                {
                    var row = new JsonObject();
                    for (int c = 0; c < batch.ColumnCount; c++)
                        row[batch.Schema.FieldsList[c].Name] = ArrowValue(batch.Column(c), r);
                    rows.Add(JsonSerializer.SerializeToElement(row));
                }
            }
        }
        return rows;
    }

    private static JsonNode? ArrowValue(IArrowArray array, int i)
    {
        if (array.IsNull(i)) return null;
        switch (array)
        {
            case BooleanArray a: return a.GetValue(i);
            case Int32Array a: return Text(a.GetValue(i)!.Value);
            case Int64Array a: return Text(a.GetValue(i)!.Value);
            case FloatArray a: return a.GetValue(i);
            case DoubleArray a: return a.GetValue(i);
            case Decimal128Array a:
            {
                var type = (Decimal128Type)a.Data.DataType;
                var unscaled = BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + i) * 16, 16));
                return Scaled(unscaled, type.Scale);
            }
            case Date32Array a: return Text(a.Values[i]);
            case Time64Array a: return Text(((Time64Type)a.Data.DataType).Unit == TimeUnit.Nanosecond ? a.Values[i] / 1000 : a.Values[i]);
            case TimestampArray a: return Text(Micros(a.Values[i], ((TimestampType)a.Data.DataType).Unit));
            case StringArray a: return a.GetString(i);
            case BinaryArray a: return Convert.ToHexStringLower(a.GetBytes(i));
            case FixedSizeBinaryArray a: return Convert.ToHexStringLower(a.GetBytes(i));
            case StructArray a:
            {
                var value = new JsonObject();
                var fields = ((Apache.Arrow.Types.StructType)a.Data.DataType).Fields;
                for (int f = 0; f < fields.Count; f++)
                    value[fields[f].Name] = ArrowValue(a.Fields[f], i);
                return value;
            }
            case MapArray a:
            {
                var value = new JsonObject();
                int start = a.ValueOffsets[i], end = a.ValueOffsets[i + 1];
                for (int k = start; k < end; k++)
                    value[((StringArray)a.Keys).GetString(k)] = ArrowValue(a.Values, k);
                return value;
            }
            case ListArray a:
            {
                var items = new JsonArray();
                var slice = a.GetSlicedValues(i);
                for (int k = 0; k < slice.Length; k++)
                    items.Add(ArrowValue(slice, k));
                return items;
            }
            default:
                throw new NotSupportedException($"no canonical form for Arrow {array.Data.DataType.Name}");
        }
    }

    private static long Micros(long value, TimeUnit unit) => unit switch
    {
        TimeUnit.Second => value * 1_000_000,
        TimeUnit.Millisecond => value * 1000,
        TimeUnit.Nanosecond => value / 1000,
        _ => value,
    };

    /// <summary>Parquet.Net's untyped deserializer, each value converted by its Iceberg type; lists from the column's own levels.</summary>
    public static async Task<List<JsonElement>> ParquetNetAsync(string file, IcebergSchema schema)
    {
        await using var stream = File.OpenRead(file);
        var result = await ParquetSerializer.DeserializeUntypedAsync(stream);
        // The untyped deserializer leaves empty lists out and drops null elements; the list column's repetition and
        // definition levels, read with the same library, hold them.
        stream.Position = 0;
        var lists = new Dictionary<string, List<JsonNode?>>();
        await using (var reader = await ParquetReader.CreateAsync(stream))
        {
            foreach (var column in schema.Columns.Where(c => c.Type is IcebergListType { ElementType: PrimitiveType }))
            {
                var field = reader.Schema.GetDataFields().Single(f => f.Path.FirstPart == column.Name);
                var values = new List<JsonNode?>();
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rowGroup = reader.OpenRowGroupReader(g);
                    values.AddRange(await ListsFromLevelsAsync(rowGroup, field, ((IcebergListType)column.Type).ElementType));
                }
                lists[column.Name] = values;
            }
        }
        var rows = new List<JsonElement>();
        int index = 0;
        foreach (var record in result.Data)
        {
            var row = new JsonObject();
            foreach (var column in schema.Columns)
                row[column.Name] = lists.TryGetValue(column.Name, out var listValues)
                    ? listValues[index]?.DeepClone()
                    : ParquetNetValue(column.Type, record.GetValueOrDefault(column.Name));
            rows.Add(JsonSerializer.SerializeToElement(row));
            index++;
        }
        return rows;
    }

    /// <summary>An optional list of optional elements from its levels: 0 a null list, 1 an empty one, 2 a null element, 3 a value.</summary>
    private static async Task<List<JsonNode?>> ListsFromLevelsAsync(ParquetRowGroupReader rowGroup, DataField field, IcebergType elementType)
    {
        int levels = checked((int)rowGroup.GetMetadata(field)!.MetaData!.NumValues);
        var values = new long[levels];
        var definitions = new int[levels];
        var repetitions = new int[levels];
        await rowGroup.ReadRawAsync<long>(field, values, definitions, repetitions);
        var rows = new List<JsonNode?>();
        int next = 0;
        for (int i = 0; i < definitions.Length; i++)
        {
            if (repetitions[i] == 0)
                rows.Add(definitions[i] == 0 ? null : new JsonArray());
            if (definitions[i] >= 2)
                ((JsonArray)rows[^1]!).Add(definitions[i] == 3 ? ParquetNetValue(elementType, values[next++]) : null);
        }
        return rows;
    }

    private static JsonNode? ParquetNetValue(IcebergType type, object? value)
    {
        if (value is null) return null;
        switch (type)
        {
            case IcebergStructType s:
            {
                var fields = (IDictionary)value;
                var result = new JsonObject();
                foreach (var f in s.Fields)
                    result[f.Name] = ParquetNetValue(f.Type, fields.Contains(f.Name) ? fields[f.Name] : null);
                return result;
            }
            case IcebergMapType m:
            {
                var result = new JsonObject();
                foreach (DictionaryEntry entry in (IDictionary)value)
                    result[entry.Key.ToString()!] = ParquetNetValue(m.ValueType, entry.Value);
                return result;
            }
            case DecimalType d:
                // System.Decimal holds 28-29 significant digits: wider values come back rounded (a documented mapping).
                return d.Precision <= 28 ? ((decimal)value).ToString("F" + d.Scale, CultureInfo.InvariantCulture) : (double)(decimal)value;
        }
        return value switch
        {
            bool b => b,
            int n => Text(n),
            long n => Text(n),
            float f => f,
            double x => x,
            string s => s,
            ReadOnlyMemory<char> s => s.ToString(),
            byte[] bytes => Convert.ToHexStringLower(bytes),
            Guid g => g.ToString("N"),
            DateOnly date => Text(date.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber),
            TimeOnly time => Text(time.Ticks / 10),
            TimeSpan time => Text(time.Ticks / 10),
            DateTime dt when type.TypeId == TypeId.Date => Text((long)(dt.Date - DateTime.UnixEpoch).TotalDays),
            DateTime dt => Text((dt.Ticks - DateTime.UnixEpoch.Ticks) / 10),
            DateTimeOffset dto => Text((dto.UtcTicks - DateTime.UnixEpoch.Ticks) / 10),
            _ => throw new NotSupportedException($"Parquet.Net value {value} ({value.GetType()}) for {type}"),
        };
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Scaled(Int128 unscaled, int scale)
    {
        var digits = BigInteger.Abs((BigInteger)unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        var text = scale > 0 ? digits[..^scale] + "." + digits[^scale..] : digits;
        return unscaled < 0 ? "-" + text : text;
    }
}
