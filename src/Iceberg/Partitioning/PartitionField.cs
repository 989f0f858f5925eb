namespace DataPlane.Iceberg.Partitioning;

/// <summary>One field of a partition spec: the transform of a source column, with a partition field id (from 1000).</summary>
public sealed record PartitionField(int SourceId, int FieldId, string Name, Transform Transform)
{
    public override string ToString() => $"{FieldId}: {Name}: {Transform}({SourceId})";
}
