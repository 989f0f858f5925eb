using System.Text.Json;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>
/// How a table's rows map to partition tuples: a spec id and its fields. Build one with <see cref="Builder"/>;
/// evolve a table's spec with <see cref="PartitionSpecUpdate"/>.
/// </summary>
public sealed class PartitionSpec
{
    /// <summary>Partition field ids start here (the reference implementation's convention, kept by the spec).</summary>
    public const int FirstFieldId = 1000;

    public static readonly PartitionSpec Unpartitioned = new(0, []);

    public PartitionSpec(int specId, IEnumerable<PartitionField> fields)
    {
        SpecId = specId;
        Fields = fields.ToArray();
    }

    public int SpecId { get; }
    public IReadOnlyList<PartitionField> Fields { get; }
    public bool IsUnpartitioned => Fields.All(f => f.Transform.Kind == TransformKind.Void);

    /// <summary>The highest partition field id, or 999 when there is none.</summary>
    public int LastAssignedFieldId => Fields.Count == 0 ? FirstFieldId - 1 : Fields.Max(f => f.FieldId);

    public static Builder BuilderFor(Schema schema) => new(schema);

    /// <summary>The partition tuple's struct type (every field optional, typed by the transform's result).</summary>
    public StructType PartitionType(Schema schema) => new(Fields.Select(f =>
        NestedField.Optional(f.FieldId, f.Name, f.Transform.ResultType(SourceType(schema, f)))));

    /// <summary>Partition values of a row given its source column values by field id.</summary>
    public PartitionData Partition(Schema schema, Func<int, object?> sourceValue)
    {
        var values = new object?[Fields.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var f = Fields[i];
            values[i] = f.Transform.Apply(SourceType(schema, f), sourceValue(f.SourceId));
        }
        return new PartitionData(values);
    }

    /// <summary>The Hive-style path of a partition, <c>ts_day=2024-01-01/id_bucket=3</c>, with names and values URL-escaped.</summary>
    public string PartitionPath(Schema schema, PartitionData partition)
    {
        var parts = new string[Fields.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var f = Fields[i];
            var human = f.Transform.ToHumanString(f.Transform.ResultType(SourceType(schema, f)), partition[i]);
            parts[i] = Uri.EscapeDataString(f.Name) + "=" + Uri.EscapeDataString(human);
        }
        return string.Join('/', parts);
    }

    /// <summary>Same fields (source, transform, name) in the same order; spec ids may differ.</summary>
    public bool IsEquivalentTo(PartitionSpec other) =>
        Fields.Count == other.Fields.Count && Fields.Zip(other.Fields).All(p =>
            p.First.SourceId == p.Second.SourceId && p.First.Transform.Equals(p.Second.Transform) && p.First.Name == p.Second.Name);

    /// <summary>Same fields including partition field ids: then manifests written for one are valid for the other.</summary>
    public bool CompatibleWith(PartitionSpec other) => IsEquivalentTo(other) && Fields.Zip(other.Fields).All(p => p.First.FieldId == p.Second.FieldId);

    public PartitionSpec WithSpecId(int specId) => new(specId, Fields);

    public string ToJson() => Json.Write(w => PartitionSpecJson.Write(w, this));
    public static PartitionSpec FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return PartitionSpecJson.Read(doc.RootElement);
    }

    public override string ToString() => $"[{string.Join(", ", Fields)}]";

    internal static PrimitiveType SourceType(Schema schema, PartitionField f) =>
        schema.FindField(f.SourceId)?.Type as PrimitiveType
        ?? throw new ArgumentException($"Partition field '{f.Name}' has source id {f.SourceId}, which is not a primitive column of schema {schema.SchemaId}.");

    /// <summary>Builds a spec against a schema: <c>BuilderFor(schema).Day("ts").Bucket("id", 16).Build()</c>.</summary>
    public sealed class Builder(Schema schema)
    {
        private readonly List<PartitionField> _fields = [];
        private int _nextFieldId = FirstFieldId;
        private int _specId;

        public Builder WithSpecId(int specId)
        {
            _specId = specId;
            return this;
        }

        public Builder Identity(string column, string? name = null) => Add(column, Transform.Identity, name);
        public Builder Year(string column, string? name = null) => Add(column, Transform.Year, name);
        public Builder Month(string column, string? name = null) => Add(column, Transform.Month, name);
        public Builder Day(string column, string? name = null) => Add(column, Transform.Day, name);
        public Builder Hour(string column, string? name = null) => Add(column, Transform.Hour, name);
        public Builder Bucket(string column, int numBuckets, string? name = null) => Add(column, Transform.Bucket(numBuckets), name);
        public Builder Truncate(string column, int width, string? name = null) => Add(column, Transform.Truncate(width), name);
        public Builder Void(string column, string? name = null) => Add(column, Transform.Void, name);

        public Builder Add(string column, Transform transform, string? name = null, int? fieldId = null)
        {
            var source = schema.Field(column);
            PartitionSpecUpdate.CheckSource(schema, source, transform, column);
            var field = new PartitionField(source.Id, fieldId ?? _nextFieldId, name ?? DefaultName(column, transform), transform);
            if (_fields.Any(f => f.Name == field.Name))
                throw new ArgumentException($"Partition field name '{field.Name}' is already used in this spec.");
            if (_fields.Any(f => f.SourceId == field.SourceId && f.Transform.Equals(transform)))
                throw new ArgumentException($"Column '{column}' is already partitioned by {transform} in this spec.");
            _fields.Add(field);
            _nextFieldId = Math.Max(_nextFieldId, field.FieldId + 1);
            return this;
        }

        public PartitionSpec Build() => new(_specId, _fields);
    }

    /// <summary>The reference implementation's default partition field names.</summary>
    public static string DefaultName(string column, Transform transform) => transform.Kind switch
    {
        TransformKind.Identity => column,
        TransformKind.Bucket => $"{column}_bucket",
        TransformKind.Truncate => $"{column}_trunc",
        TransformKind.Year => $"{column}_year",
        TransformKind.Month => $"{column}_month",
        TransformKind.Day => $"{column}_day",
        TransformKind.Hour => $"{column}_hour",
        TransformKind.Void => $"{column}_null",
        _ => $"{column}_{transform}",
    };
}
