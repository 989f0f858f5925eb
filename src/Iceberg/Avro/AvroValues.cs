using Avro;
using Avro.Generic;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Avro;

/// <summary>Converts between the library's in-memory values (<see cref="Conversions"/>) and Apache.Avro generic values
/// under a schema without logical types (see <see cref="AvroContainer"/>).</summary>
internal static class AvroValues
{
    /// <summary>The non-null branch of an optional field's union.</summary>
    public static global::Avro.Schema NonNull(global::Avro.Schema schema) =>
        schema is UnionSchema u ? u.Schemas.First(s => s.Tag != global::Avro.Schema.Type.Null) : schema;

    public static RecordSchema Record(RecordSchema parent, string field) => (RecordSchema)NonNull(parent[field].Schema);

    public static object? ToAvro(PrimitiveType type, object? value, global::Avro.Schema schema)
    {
        if (value is null) return null;
        switch (type.TypeId)
        {
            case TypeId.Decimal:
            {
                var fixedSchema = (FixedSchema)NonNull(schema);
                var unscaled = Conversions.ToDecimalValue((DecimalType)type, value);
                var bytes = new byte[fixedSchema.Size];
                if (unscaled.Unscaled < 0) Array.Fill(bytes, (byte)0xFF);
                var minimal = unscaled.ToBigEndianBytes();
                if (minimal.Length > bytes.Length) throw new ArgumentException($"Decimal {value} does not fit {type}.");
                minimal.CopyTo(bytes, bytes.Length - minimal.Length);
                return new GenericFixed(fixedSchema, bytes);
            }
            case TypeId.Uuid:
            case TypeId.Fixed:
                return new GenericFixed((FixedSchema)NonNull(schema), Conversions.ToBytes(type, value));
            case TypeId.Date: return Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
            case TypeId.Time:
            case TypeId.Timestamp:
            case TypeId.TimestampTz:
            case TypeId.Long: return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            default: return value;
        }
    }

    public static object? FromAvro(PrimitiveType type, object? value)
    {
        if (value is null) return null;
        switch (type.TypeId)
        {
            case TypeId.Decimal:
            case TypeId.Uuid:
                return Conversions.FromBytes(type, value is GenericFixed f ? f.Value : (byte[])value);
            case TypeId.Fixed: return value is GenericFixed g ? g.Value : (byte[])value;
            case TypeId.Long:
            case TypeId.Time:
            case TypeId.Timestamp:
            case TypeId.TimestampTz: return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            case TypeId.Double: return Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
            default: return value;
        }
    }

    public static object[]? IntMap<T>(RecordSchema parent, string field, IReadOnlyDictionary<int, T>? map)
    {
        if (map is null) return null;
        var items = (RecordSchema)((ArraySchema)NonNull(parent[field].Schema)).ItemSchema;
        var result = new object[map.Count];
        var i = 0;
        foreach (var (k, v) in map.OrderBy(p => p.Key))
        {
            var r = new GenericRecord(items);
            r.Add("key", k);
            r.Add("value", v);
            result[i++] = r;
        }
        return result;
    }

    public static Dictionary<int, T>? ReadIntMap<T>(GenericRecord record, string field)
    {
        if (!record.TryGetValue(field, out var value) || value is null) return null;
        var map = new Dictionary<int, T>();
        foreach (GenericRecord kv in (System.Collections.IEnumerable)value)
            map[(int)kv["key"]] = (T)kv["value"];
        return map;
    }

    public static List<T>? ReadList<T>(GenericRecord record, string field) =>
        record.TryGetValue(field, out var value) && value is System.Collections.IEnumerable e ? e.Cast<T>().ToList() : null;

    public static T? Optional<T>(GenericRecord record, string field) where T : struct =>
        record.TryGetValue(field, out var value) && value is not null ? (T)value : null;

    public static string? OptionalString(GenericRecord record, string field) =>
        record.TryGetValue(field, out var value) ? value as string : null;

    public static byte[]? OptionalBytes(GenericRecord record, string field) =>
        record.TryGetValue(field, out var value) ? value as byte[] : null;
}
