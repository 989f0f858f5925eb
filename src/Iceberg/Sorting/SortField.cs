using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Iceberg.Sorting;

/// <summary>One key of a sort order: a transform of a source column, a direction and where nulls go.</summary>
public sealed record SortField(int SourceId, Transform Transform, SortDirection Direction, NullOrder NullOrder);
