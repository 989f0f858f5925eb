using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;

namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// Applies <see cref="TableUpdate"/>s to table metadata, with the reference implementation's rules: an added schema,
/// spec or sort order equal to an existing one reuses its id; -1 in a set-current/default update means "the one added
/// last"; snapshots need increasing sequence numbers; moving <c>main</c> sets the current snapshot and logs it.
/// <see cref="Changes"/> lists what was applied, so a commit can be sent to a REST catalog as it is.
/// </summary>
public sealed class TableMetadataBuilder
{
    private readonly TableMetadata? _base;
    private readonly string? _baseMetadataLocation;
    private readonly List<TableUpdate> _changes = [];
    private TableMetadata _m;
    private int? _lastAddedSchemaId, _lastAddedSpecId, _lastAddedOrderId;
    private long? _now;

    private TableMetadataBuilder(TableMetadata start, TableMetadata? baseMetadata, string? baseMetadataLocation)
    {
        _m = start;
        _base = baseMetadata;
        _baseMetadataLocation = baseMetadataLocation;
    }

    /// <summary>Changes <paramref name="metadata"/>; when it was read from <paramref name="metadataLocation"/>, that file joins the metadata log.</summary>
    public static TableMetadataBuilder From(TableMetadata metadata, string? metadataLocation = null) => new(metadata, metadata, metadataLocation);

    public static TableMetadataBuilder ForNewTable(string location, string tableUuid)
    {
        var builder = new TableMetadataBuilder(new TableMetadata
        {
            TableUuid = tableUuid,
            Location = location,
            Schemas = [],
            PartitionSpecs = [],
            SortOrders = [],
            CurrentSchemaId = -1,
            DefaultSpecId = -1,
            DefaultSortOrderId = -1,
        }, null, null);
        builder._changes.Add(new TableUpdate.AssignUuid(tableUuid));
        return builder;
    }

    public IReadOnlyList<TableUpdate> Changes => _changes;
    public TableMetadata Current => _m;

    /// <summary>Fixes "now" (last-updated-ms); tests and retries use it for stable output.</summary>
    public TableMetadataBuilder WithTimestamp(long nowMs)
    {
        _now = nowMs;
        return this;
    }

    public TableMetadataBuilder ApplyAll(IEnumerable<TableUpdate> updates)
    {
        foreach (var u in updates) Apply(u);
        return this;
    }

    public TableMetadataBuilder Apply(TableUpdate update)
    {
        switch (update)
        {
            case TableUpdate.AssignUuid u:
                if (_base is not null && !string.Equals(_base.TableUuid, u.Uuid, StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"Cannot reassign the table UUID {_base.TableUuid} to {u.Uuid}.");
                _m = _m with { TableUuid = u.Uuid };
                break;
            case TableUpdate.UpgradeFormatVersion u:
                if (u.FormatVersion < _m.FormatVersion) throw new ArgumentException($"Cannot downgrade format version {_m.FormatVersion} to {u.FormatVersion}.");
                if (u.FormatVersion > 2) throw new ArgumentException($"Format version {u.FormatVersion} is not supported; supported: 1, 2.");
                _m = _m with { FormatVersion = u.FormatVersion };
                break;
            case TableUpdate.AddSchema u:
                AddSchema(u);
                return this;
            case TableUpdate.SetCurrentSchema u:
                var schemaId = u.SchemaId == -1 ? _lastAddedSchemaId ?? throw new ArgumentException("set-current-schema -1 needs a schema added in the same commit.") : u.SchemaId;
                _m.Schema(schemaId);
                _m = _m with { CurrentSchemaId = schemaId };
                break;
            case TableUpdate.AddSpec u:
                AddSpec(u);
                return this;
            case TableUpdate.SetDefaultSpec u:
                var specId = u.SpecId == -1 ? _lastAddedSpecId ?? throw new ArgumentException("set-default-spec -1 needs a spec added in the same commit.") : u.SpecId;
                _m.Spec(specId);
                _m = _m with { DefaultSpecId = specId };
                break;
            case TableUpdate.AddSortOrder u:
                AddSortOrder(u);
                return this;
            case TableUpdate.SetDefaultSortOrder u:
                var orderId = u.SortOrderId == -1 ? _lastAddedOrderId ?? throw new ArgumentException("set-default-sort-order -1 needs a sort order added in the same commit.") : u.SortOrderId;
                _m.SortOrder(orderId);
                _m = _m with { DefaultSortOrderId = orderId };
                break;
            case TableUpdate.AddSnapshot u:
                AddSnapshot(u.Snapshot);
                break;
            case TableUpdate.SetSnapshotRef u:
                SetRef(u.RefName, u.Ref);
                break;
            case TableUpdate.RemoveSnapshots u:
                var removed = u.SnapshotIds.ToHashSet();
                _m = _m with
                {
                    Snapshots = _m.Snapshots.Where(s => !removed.Contains(s.SnapshotId)).ToList(),
                    Refs = _m.Refs.Where(r => !removed.Contains(r.Value.SnapshotId)).ToDictionary(),
                    Statistics = _m.Statistics.Where(s => !removed.Contains(s.SnapshotId)).ToList(),
                    PartitionStatistics = _m.PartitionStatistics.Where(s => !removed.Contains(s.SnapshotId)).ToList(),
                    SnapshotLog = SnapshotLogAfter(_m.SnapshotLog, removed),
                };
                if (_m.CurrentSnapshotId is { } cur && removed.Contains(cur)) _m = _m with { CurrentSnapshotId = null };
                break;
            case TableUpdate.RemoveSnapshotRef u:
                _m = _m with { Refs = _m.Refs.Where(r => r.Key != u.RefName).ToDictionary() };
                if (u.RefName == SnapshotRef.MainBranch) _m = _m with { CurrentSnapshotId = null };
                break;
            case TableUpdate.SetLocation u:
                _m = _m with { Location = u.Location.TrimEnd('/') };
                break;
            case TableUpdate.SetProperties u:
                // Writers of this catalog's tables must be able to honour them: a bad value is refused where it is set.
                DataFiles.TableWriteProperties.Check(u.Updates);
                var props = new Dictionary<string, string>(_m.Properties);
                foreach (var (k, v) in u.Updates) props[k] = v;
                _m = _m with { Properties = props };
                break;
            case TableUpdate.RemoveProperties u:
                _m = _m with { Properties = _m.Properties.Where(p => !u.Removals.Contains(p.Key)).ToDictionary() };
                break;
            case TableUpdate.SetStatistics u:
                _m = _m with { Statistics = [.. _m.Statistics.Where(s => s.SnapshotId != u.Statistics.SnapshotId), u.Statistics] };
                break;
            case TableUpdate.RemoveStatistics u:
                _m = _m with { Statistics = _m.Statistics.Where(s => s.SnapshotId != u.SnapshotId).ToList() };
                break;
            case TableUpdate.SetPartitionStatistics u:
                _m = _m with { PartitionStatistics = [.. _m.PartitionStatistics.Where(s => s.SnapshotId != u.PartitionStatistics.SnapshotId), u.PartitionStatistics] };
                break;
            case TableUpdate.RemovePartitionStatistics u:
                _m = _m with { PartitionStatistics = _m.PartitionStatistics.Where(s => s.SnapshotId != u.SnapshotId).ToList() };
                break;
            case TableUpdate.RemovePartitionSpecs u:
                if (u.SpecIds.Contains(_m.DefaultSpecId)) throw new ArgumentException($"Cannot remove the default partition spec {_m.DefaultSpecId}.");
                _m = _m with { PartitionSpecs = _m.PartitionSpecs.Where(s => !u.SpecIds.Contains(s.SpecId)).ToList() };
                break;
            case TableUpdate.RemoveSchemas u:
                if (u.SchemaIds.Contains(_m.CurrentSchemaId)) throw new ArgumentException($"Cannot remove the current schema {_m.CurrentSchemaId}.");
                _m = _m with { Schemas = _m.Schemas.Where(s => !u.SchemaIds.Contains(s.SchemaId)).ToList() };
                break;
            default:
                throw new ArgumentException($"Unsupported table update {update.Action}.");
        }
        _changes.Add(update);
        return this;
    }

    private void AddSchema(TableUpdate.AddSchema u)
    {
        var existing = _m.Schemas.FirstOrDefault(s => s.SameSchema(u.Schema));
        if (existing is not null)
        {
            _lastAddedSchemaId = existing.SchemaId;
            return;
        }
        var id = _m.Schemas.Count == 0 ? u.Schema.SchemaId : Math.Max(u.Schema.SchemaId, _m.Schemas.Max(s => s.SchemaId) + 1);
        if (_m.Schemas.Any(s => s.SchemaId == id)) id = _m.Schemas.Max(s => s.SchemaId) + 1;
        var schema = u.Schema.WithSchemaId(id);
        _m = _m with
        {
            Schemas = [.. _m.Schemas, schema],
            LastColumnId = Math.Max(_m.LastColumnId, Math.Max(u.LastColumnId ?? 0, schema.HighestFieldId)),
        };
        _lastAddedSchemaId = id;
        _changes.Add(u with { Schema = schema });
    }

    private void AddSpec(TableUpdate.AddSpec u)
    {
        var existing = _m.PartitionSpecs.FirstOrDefault(s => s.CompatibleWith(u.Spec));
        if (existing is not null)
        {
            _lastAddedSpecId = existing.SpecId;
            return;
        }
        foreach (var f in u.Spec.Fields)
            if (_m.Schemas.Count > 0 && _m.Schemas.All(s => s.FindField(f.SourceId) is null))
                throw new ArgumentException($"Partition field '{f.Name}' refers to column id {f.SourceId}, which no schema has.");
        var id = _m.PartitionSpecs.Count == 0 ? u.Spec.SpecId : _m.PartitionSpecs.Max(s => s.SpecId) + 1;
        var spec = u.Spec.WithSpecId(id);
        _m = _m with { PartitionSpecs = [.. _m.PartitionSpecs, spec], LastPartitionId = Math.Max(_m.LastPartitionId, spec.LastAssignedFieldId) };
        _lastAddedSpecId = id;
        _changes.Add(u with { Spec = spec });
    }

    private void AddSortOrder(TableUpdate.AddSortOrder u)
    {
        var existing = _m.SortOrders.FirstOrDefault(s => s.SameOrder(u.SortOrder));
        if (existing is not null)
        {
            _lastAddedOrderId = existing.OrderId;
            return;
        }
        var id = u.SortOrder.IsUnsorted ? 0 : Math.Max(1, _m.SortOrders.Count == 0 ? 1 : _m.SortOrders.Max(s => s.OrderId) + 1);
        var order = u.SortOrder.WithOrderId(id);
        _m = _m with { SortOrders = [.. _m.SortOrders, order] };
        _lastAddedOrderId = id;
        _changes.Add(u with { SortOrder = order });
    }

    private void AddSnapshot(Snapshot s)
    {
        if (_m.Snapshot(s.SnapshotId) is not null) throw new ArgumentException($"Snapshot {s.SnapshotId} already exists.");
        if (_m.FormatVersion >= 2 && s.SequenceNumber <= _m.LastSequenceNumber && s.ParentSnapshotId is not null)
            throw new CommitFailedException($"Cannot add snapshot {s.SnapshotId} with sequence number {s.SequenceNumber}: the table is already at {_m.LastSequenceNumber}.");
        _m = _m with
        {
            Snapshots = [.. _m.Snapshots, s],
            LastSequenceNumber = Math.Max(_m.LastSequenceNumber, s.SequenceNumber),
            LastUpdatedMs = Math.Max(_m.LastUpdatedMs, s.TimestampMs),
        };
    }

    private void SetRef(string name, SnapshotRef reference)
    {
        var snapshot = _m.Snapshot(reference.SnapshotId)
            ?? throw new ArgumentException($"Cannot point ref '{name}' at unknown snapshot {reference.SnapshotId}.");
        if (name == SnapshotRef.MainBranch && !reference.IsBranch) throw new ArgumentException("'main' must be a branch, not a tag.");
        var refs = new Dictionary<string, SnapshotRef>(_m.Refs) { [name] = reference };
        _m = _m with { Refs = refs };
        if (name == SnapshotRef.MainBranch && _m.CurrentSnapshotId != snapshot.SnapshotId)
        {
            var at = _changes.Any(c => c is TableUpdate.AddSnapshot a && a.Snapshot.SnapshotId == snapshot.SnapshotId) ? snapshot.TimestampMs : Now();
            _m = _m with { CurrentSnapshotId = snapshot.SnapshotId, SnapshotLog = [.. _m.SnapshotLog, new SnapshotLogEntry(at, snapshot.SnapshotId)] };
        }
    }

    /// <summary>The spec's rule for expired snapshots: every log entry before one whose snapshot is gone is removed too,
    /// so time travel never lands on a state some of whose history is missing.</summary>
    private List<SnapshotLogEntry> SnapshotLogAfter(IReadOnlyList<SnapshotLogEntry> log, HashSet<long> removed)
    {
        var kept = new List<SnapshotLogEntry>();
        foreach (var entry in log)
        {
            if (removed.Contains(entry.SnapshotId) || _m.Snapshot(entry.SnapshotId) is null) kept.Clear();
            else kept.Add(entry);
        }
        return kept;
    }

    private long Now() => _now ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The new metadata: last-updated-ms moves forward and the base metadata file joins the metadata log
    /// (trimmed to <c>write.metadata.previous-versions-max</c>, 100 by default).</summary>
    public TableMetadata Build()
    {
        if (_m.Schemas.Count == 0) throw new ArgumentException("A table needs a schema.");
        var m = _m;
        if (m.PartitionSpecs.Count == 0) m = m with { PartitionSpecs = [PartitionSpec.Unpartitioned], DefaultSpecId = 0 };
        if (m.SortOrders.Count == 0) m = m with { SortOrders = [SortOrder.Unsorted], DefaultSortOrderId = 0 };
        var now = Math.Max(Now(), m.LastUpdatedMs);
        if (_base is not null && _changes.Count == 0) return _base;
        var log = m.MetadataLog.ToList();
        if (_base is not null && _baseMetadataLocation is not null)
        {
            log.Add(new MetadataLogEntry(_base.LastUpdatedMs, _baseMetadataLocation));
            var max = int.TryParse(m.Property("write.metadata.previous-versions-max", "100"), out var v) ? Math.Max(v, 1) : 100;
            if (log.Count > max) log = log.Skip(log.Count - max).ToList();
        }
        return m with { LastUpdatedMs = now, MetadataLog = log };
    }
}
