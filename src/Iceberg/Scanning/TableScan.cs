using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Schemas;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// Plans a scan: picks a snapshot (current, by id, by timestamp, by branch or tag), reads its manifest list and
/// manifests, and returns the live data files that may hold rows matching the filter, pruned first by the manifest
/// list's partition summaries (manifests that cannot match are not read), then by partition values (the filter
/// projected through each spec's transforms) and then by column metrics.
/// </summary>
public sealed class TableScan
{
    private readonly TableMetadata _metadata;
    private readonly TableIO _io;
    private Snapshot? _snapshot;
    private bool _snapshotChosen;
    private Expression _filter = Expression.True;

    internal TableScan(TableMetadata metadata, TableIO io)
    {
        _metadata = metadata;
        _io = io;
        _snapshot = metadata.CurrentSnapshot;
    }

    public Snapshot? Snapshot => _snapshot;

    public TableScan UseSnapshot(long snapshotId)
    {
        _snapshot = _metadata.Snapshot(snapshotId) ?? throw new ArgumentException($"No snapshot {snapshotId}; snapshots: {string.Join(", ", _metadata.Snapshots.Select(s => s.SnapshotId))}.");
        _snapshotChosen = true;
        return this;
    }

    public TableScan AsOfTime(long timestampMs)
    {
        _snapshot = _metadata.SnapshotAsOf(timestampMs)
            ?? throw new ArgumentException($"No snapshot was current at {DateTimeOffset.FromUnixTimeMilliseconds(timestampMs):O}; the first is at {_metadata.SnapshotLog.FirstOrDefault()?.TimestampMs}.");
        _snapshotChosen = true;
        return this;
    }

    public TableScan UseRef(string name)
    {
        if (!_metadata.Refs.ContainsKey(name) && name != SnapshotRef.MainBranch)
            throw new ArgumentException($"No branch or tag '{name}'; refs: {string.Join(", ", _metadata.Refs.Keys)}.");
        _snapshot = _metadata.SnapshotForRef(name);
        _snapshotChosen = true;
        return this;
    }

    public TableScan Filter(Expression filter)
    {
        _filter = Expression.And(_filter, filter);
        return this;
    }

    /// <summary>The schema rows come out in: the current schema, or the snapshot's when time travelling.</summary>
    public Schema ProjectedSchema => _snapshotChosen && _snapshot?.SchemaId is { } id && _metadata.Schemas.Any(s => s.SchemaId == id)
        ? _metadata.Schema(id)
        : _metadata.CurrentSchema;

    public async Task<IReadOnlyList<FileScanTask>> PlanFilesAsync(CancellationToken cancellationToken = default)
    {
        var tasks = new List<FileScanTask>();
        if (_snapshot is null) return tasks;
        var projected = ProjectedSchema;
        var metrics = new MetricsEvaluator(_metadata.CurrentSchema);
        var manifests = await SnapshotManifests.ReadAsync(_io, _snapshot, cancellationToken);
        var deletes = new List<(DataFile File, long SequenceNumber)>();
        foreach (var manifest in manifests.Where(m => m.Content == ManifestContent.Deletes && m.HasLiveFiles))
        {
            var spec = _metadata.Spec(manifest.PartitionSpecId);
            using var stream = await _io.ReadAsync(manifest.ManifestPath, cancellationToken);
            foreach (var entry in ManifestReader.Read(stream, manifest))
                if (entry.IsLive)
                    deletes.Add((entry.DataFile with { SpecId = spec.SpecId }, entry.SequenceNumber ?? manifest.SequenceNumber));
        }
        foreach (var manifest in manifests.Where(m => m.Content == ManifestContent.Data && m.HasLiveFiles))
        {
            var spec = _metadata.Spec(manifest.PartitionSpecId);
            // The manifest list's partition summaries rule out whole manifests before they are read.
            if (!new ManifestEvaluator(_metadata.CurrentSchema, spec).MightMatch(_filter, manifest)) continue;
            var partitions = new PartitionEvaluator(_metadata.CurrentSchema, spec);
            using var stream = await _io.ReadAsync(manifest.ManifestPath, cancellationToken);
            foreach (var entry in ManifestReader.Read(stream, manifest))
            {
                if (!entry.IsLive) continue;
                var file = entry.DataFile with { SpecId = spec.SpecId };
                if (!partitions.MightMatch(_filter, file.Partition) || !metrics.MightMatch(_filter, file)) continue;
                var sequenceNumber = entry.SequenceNumber ?? manifest.SequenceNumber;
                tasks.Add(new FileScanTask(file, spec, projected, sequenceNumber)
                {
                    ManifestPath = manifest.ManifestPath,
                    DeleteFiles = deletes.Count == 0 ? [] : deletes.Where(d => Applies(d.File, d.SequenceNumber, file, sequenceNumber)).Select(d => d.File).ToList(),
                });
            }
        }
        return tasks;
    }

    /// <summary>The spec's scope rules: position deletes apply to same-partition data files of a sequence number up to
    /// theirs (and to the referenced file only, when named); equality deletes to strictly older data files of the same
    /// partition, or of any partition when the delete file's spec is unpartitioned.</summary>
    private bool Applies(DataFile delete, long deleteSequence, DataFile data, long dataSequence)
    {
        var samePartition = delete.SpecId == data.SpecId && delete.Partition.Equals(data.Partition);
        return delete.Content switch
        {
            FileContent.PositionDeletes => dataSequence <= deleteSequence && samePartition
                && (delete.ReferencedDataFile is null || delete.ReferencedDataFile == data.FilePath),
            FileContent.EqualityDeletes => dataSequence < deleteSequence && (samePartition || _metadata.Spec(delete.SpecId).IsUnpartitioned),
            _ => false,
        };
    }
}
