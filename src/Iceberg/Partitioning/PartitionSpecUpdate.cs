using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>
/// Partition evolution (v2): add, remove and rename fields of the default spec. A field equivalent to one of any
/// earlier spec (same source and transform) gets that field's id back, as the spec requires; others get ids above
/// the table's last-partition-id.
/// </summary>
public sealed class PartitionSpecUpdate
{
    private readonly Schema _schema;
    private readonly IReadOnlyList<PartitionSpec> _allSpecs;
    private readonly List<PartitionField> _fields;
    private int _lastPartitionId;

    public PartitionSpecUpdate(Schema schema, PartitionSpec current, IReadOnlyList<PartitionSpec> allSpecs, int lastPartitionId)
    {
        _schema = schema;
        _allSpecs = allSpecs;
        _fields = current.Fields.ToList();
        _lastPartitionId = Math.Max(lastPartitionId, PartitionSpec.FirstFieldId - 1);
    }

    public int LastPartitionId => _lastPartitionId;

    public PartitionSpecUpdate AddField(string column, Transform transform, string? name = null)
    {
        var source = _schema.Field(column);
        CheckSource(_schema, source, transform, column);
        if (_fields.Any(f => f.SourceId == source.Id && f.Transform.Equals(transform)))
            throw new ArgumentException($"Column '{column}' is already partitioned by {transform}.");
        var fieldName = name ?? PartitionSpec.DefaultName(column, transform);
        if (_fields.Any(f => f.Name == fieldName))
            throw new ArgumentException($"Partition field name '{fieldName}' is already used; pass another name.");
        var reused = _allSpecs.SelectMany(s => s.Fields).FirstOrDefault(f => f.SourceId == source.Id && f.Transform.Equals(transform));
        var id = reused?.FieldId ?? ++_lastPartitionId;
        _fields.Add(new PartitionField(source.Id, id, fieldName, transform));
        return this;
    }

    public PartitionSpecUpdate RemoveField(string name)
    {
        var i = _fields.FindIndex(f => f.Name == name);
        if (i < 0) throw new ArgumentException($"No partition field '{name}'; fields: {string.Join(", ", _fields.Select(f => f.Name))}.");
        _fields.RemoveAt(i);
        return this;
    }

    public PartitionSpecUpdate RenameField(string name, string newName)
    {
        var i = _fields.FindIndex(f => f.Name == name);
        if (i < 0) throw new ArgumentException($"No partition field '{name}'; fields: {string.Join(", ", _fields.Select(f => f.Name))}.");
        if (_fields.Any(f => f.Name == newName)) throw new ArgumentException($"Partition field name '{newName}' is already used.");
        _fields[i] = _fields[i] with { Name = newName };
        return this;
    }

    /// <summary>The new spec; when an existing spec is equivalent, that spec is returned instead (writers must not add duplicates).</summary>
    public (PartitionSpec Spec, int LastPartitionId) Apply()
    {
        var candidate = new PartitionSpec(_allSpecs.Count == 0 ? 0 : _allSpecs.Max(s => s.SpecId) + 1, _fields);
        var existing = _allSpecs.FirstOrDefault(s => s.CompatibleWith(candidate));
        return (existing ?? candidate, _lastPartitionId);
    }

    internal static void CheckSource(Schema schema, NestedField source, Transform transform, string column)
    {
        if (transform.Kind == TransformKind.Unknown)
            throw new ArgumentException($"Unknown transform '{transform}'; valid: identity, bucket[N], truncate[W], year, month, day, hour, void.");
        if (!transform.CanTransform(source.Type))
            throw new ArgumentException($"Cannot partition column '{column}' of type {source.Type} by {transform}.");
        for (var parent = schema.ParentId(source.Id); parent is { } p; parent = schema.ParentId(p))
            if (schema.Field(p).Type is ListType or MapType)
                throw new ArgumentException($"Cannot partition by '{column}': it is inside a list or map.");
    }
}
