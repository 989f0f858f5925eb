using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;

namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// A table's metadata document (table spec, "Table Metadata"): schemas, partition specs, sort orders, snapshots,
/// refs, logs and properties. Immutable; change it with <see cref="TableMetadataBuilder"/> through
/// <see cref="TableUpdate"/>s. JSON as Appendix C in <see cref="TableMetadataJson"/>.
/// </summary>
public sealed record TableMetadata
{
    public int FormatVersion { get; init; } = 2;
    public required string TableUuid { get; init; }
    public required string Location { get; init; }
    public long LastSequenceNumber { get; init; }
    public long LastUpdatedMs { get; init; }
    public int LastColumnId { get; init; }
    public required IReadOnlyList<Schema> Schemas { get; init; }
    public int CurrentSchemaId { get; init; }
    public required IReadOnlyList<PartitionSpec> PartitionSpecs { get; init; }
    public int DefaultSpecId { get; init; }
    public int LastPartitionId { get; init; } = PartitionSpec.FirstFieldId - 1;
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
    public long? CurrentSnapshotId { get; init; }
    public IReadOnlyList<Snapshot> Snapshots { get; init; } = [];
    public IReadOnlyList<SnapshotLogEntry> SnapshotLog { get; init; } = [];
    public IReadOnlyList<MetadataLogEntry> MetadataLog { get; init; } = [];
    public required IReadOnlyList<SortOrder> SortOrders { get; init; }
    public int DefaultSortOrderId { get; init; }
    public IReadOnlyDictionary<string, SnapshotRef> Refs { get; init; } = new Dictionary<string, SnapshotRef>();
    public IReadOnlyList<StatisticsFile> Statistics { get; init; } = [];
    public IReadOnlyList<StatisticsFile> PartitionStatistics { get; init; } = [];

    public Schema CurrentSchema => Schema(CurrentSchemaId);
    public PartitionSpec DefaultSpec => Spec(DefaultSpecId);
    public SortOrder DefaultSortOrder => SortOrder(DefaultSortOrderId);
    public Snapshot? CurrentSnapshot => CurrentSnapshotId is { } id ? Snapshot(id) : null;

    public Schema Schema(int schemaId) => Schemas.FirstOrDefault(s => s.SchemaId == schemaId)
        ?? throw new ArgumentException($"No schema with id {schemaId}; schema ids: {string.Join(", ", Schemas.Select(s => s.SchemaId))}.");

    public PartitionSpec Spec(int specId) => PartitionSpecs.FirstOrDefault(s => s.SpecId == specId)
        ?? throw new ArgumentException($"No partition spec with id {specId}; spec ids: {string.Join(", ", PartitionSpecs.Select(s => s.SpecId))}.");

    public SortOrder SortOrder(int orderId) => SortOrders.FirstOrDefault(s => s.OrderId == orderId)
        ?? throw new ArgumentException($"No sort order with id {orderId}; order ids: {string.Join(", ", SortOrders.Select(s => s.OrderId))}.");

    public Snapshot? Snapshot(long snapshotId) => Snapshots.FirstOrDefault(s => s.SnapshotId == snapshotId);

    /// <summary>The snapshot a branch or tag points at; <c>main</c> falls back to the current snapshot.</summary>
    public Snapshot? SnapshotForRef(string name) =>
        Refs.TryGetValue(name, out var r) ? Snapshot(r.SnapshotId) : name == SnapshotRef.MainBranch ? CurrentSnapshot : null;

    /// <summary>The snapshot that was current at <paramref name="timestampMs"/> (time travel), from the snapshot log.</summary>
    public Snapshot? SnapshotAsOf(long timestampMs)
    {
        long? id = null;
        foreach (var e in SnapshotLog)
            if (e.TimestampMs <= timestampMs) id = e.SnapshotId;
        if (id is null && SnapshotLog.Count == 0)
            id = Snapshots.Where(s => s.TimestampMs <= timestampMs).MaxBy(s => s.TimestampMs)?.SnapshotId;
        return id is { } v ? Snapshot(v) : null;
    }

    /// <summary>Snapshots from <paramref name="snapshotId"/> back through its parents.</summary>
    public IEnumerable<Snapshot> Ancestors(long snapshotId)
    {
        for (var s = Snapshot(snapshotId); s is not null; s = s.ParentSnapshotId is { } p ? Snapshot(p) : null)
            yield return s;
    }

    public string Property(string key, string defaultValue) => Properties.TryGetValue(key, out var v) ? v : defaultValue;

    public string ToJson(bool indented = true) => TableMetadataJson.Write(this, indented);
    public static TableMetadata FromJson(string json) => TableMetadataJson.Read(json);

    /// <summary>Metadata of a new, empty v2 table (schema, spec and sort order as given, ids kept).</summary>
    public static TableMetadata NewTable(string location, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
        IReadOnlyDictionary<string, string>? properties = null, string? tableUuid = null)
    {
        spec ??= PartitionSpec.Unpartitioned;
        sortOrder ??= Sorting.SortOrder.Unsorted;
        var builder = TableMetadataBuilder.ForNewTable(location.TrimEnd('/'), tableUuid ?? Guid.NewGuid().ToString());
        builder.Apply(new TableUpdate.AddSchema(schema.WithSchemaId(0)));
        builder.Apply(new TableUpdate.SetCurrentSchema(-1));
        builder.Apply(new TableUpdate.AddSpec(spec.WithSpecId(0)));
        builder.Apply(new TableUpdate.SetDefaultSpec(-1));
        builder.Apply(new TableUpdate.AddSortOrder(sortOrder));
        builder.Apply(new TableUpdate.SetDefaultSortOrder(-1));
        if (properties is { Count: > 0 }) builder.Apply(new TableUpdate.SetProperties(properties));
        return builder.Build();
    }
}
