namespace DataPlane.Iceberg.Types;

/// <summary>A tuple of named fields; a table schema is a struct.</summary>
public sealed class StructType : IcebergType
{
    public StructType(IEnumerable<NestedField> fields)
    {
        Fields = fields.ToArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Fields)
            if (!names.Add(f.Name))
                throw new ArgumentException($"Duplicate field name '{f.Name}' in struct; field names must be unique within a struct.");
    }

    public StructType(params NestedField[] fields) : this((IEnumerable<NestedField>)fields) { }

    public override TypeId TypeId => TypeId.Struct;
    public IReadOnlyList<NestedField> Fields { get; }

    public NestedField? Field(int id) => Fields.FirstOrDefault(f => f.Id == id);
    public NestedField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    public override bool Equals(IcebergType? other) => other is StructType s && s.Fields.SequenceEqual(Fields);
    public override int GetHashCode() => Fields.Aggregate(17, (h, f) => HashCode.Combine(h, f));
    public override string ToString() => $"struct<{string.Join(", ", Fields)}>";
}
