using System.Globalization;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.DataFiles;
using DataPlane.Catalog.Manifests;
using DataPlane.Catalog.Operations;
using IcebergSchema = DataPlane.Catalog.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// An Iceberg table in DataPlane's catalog (the one <c>/iceberg/v1</c> serves), committed through
/// <see cref="IcebergCatalog"/>. Each commit is one fast-append snapshot whose summary carries the sink, the stream
/// and the offsets its files cover; the table (and its namespace) is created from the pipeline's output schema and
/// the sink's partition terms when absent.
/// </summary>
internal sealed class IcebergTableTarget(IcebergCatalog catalog, SinkDefinition sink, IcebergSchema outputSchema) : ISinkTarget
{
    public const string SinkKey = "dataplane.sink";
    public const string StreamKey = "dataplane.stream";
    public const string StartOffsetKey = "dataplane.start-offset";
    public const string EndOffsetKey = "dataplane.end-offset";

    private readonly TableIdentifier _id = new([sink.Namespace!], sink.Table!);
    private Table? _table;

    public async Task<SinkCommit?> LastCommitAsync(CancellationToken cancellationToken)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        var metadata = table.Metadata;
        if (metadata.CurrentSnapshotId is not { } current)
            return null;
        foreach (var snapshot in metadata.Ancestors(current))
        {
            if (!snapshot.Summary.TryGetValue(SinkKey, out var name) || name != sink.Name)
                continue;
            var s = snapshot.Summary;
            return new SinkCommit(snapshot.SnapshotId, s[StreamKey], Long(s[StartOffsetKey]), Long(s[EndOffsetKey]),
                s.TryGetValue("added-records", out var r) ? Long(r) : 0, s.TryGetValue("added-data-files", out var f) ? (int)Long(f) : 0,
                DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TimestampMs));
        }
        return null;
    }

    public async Task<int> RemoveUncommittedAsync(CancellationToken cancellationToken)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        var live = new HashSet<string>(StringComparer.Ordinal);
        if (table.Metadata.CurrentSnapshotId is not null)
            foreach (var task in await table.NewScan().PlanFilesAsync(cancellationToken))
                live.Add(task.File.FilePath);
        var orphans = new List<string>();
        await foreach (var info in catalog.Warehouse.ListAsync(table.TableKey + "/data/", cancellationToken: cancellationToken))
            if (!live.Contains(table.LocationOf(info.Key)))
                orphans.Add(info.Key);
        foreach (var key in orphans)
            await catalog.Warehouse.DeleteAsync(key, cancellationToken);
        return orphans.Count;
    }

    public PartitionedWriter OpenWriter(DataFileWriterOptions options)
    {
        var table = _table ?? throw new InvalidOperationException("The table is loaded before files are written.");
        return new PartitionedWriter(catalog.Warehouse, table.TableKey + "/data", table.Schema, table.Spec, options);
    }

    public async Task<SinkCommit> CommitAsync(IReadOnlyList<SinkDataFile> files, string stream, long startOffset, long endOffset, CancellationToken cancellationToken)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        var summary = new Dictionary<string, string>
        {
            [SinkKey] = sink.Name,
            [StreamKey] = stream,
            [StartOffsetKey] = startOffset.ToString(CultureInfo.InvariantCulture),
            [EndOffsetKey] = endOffset.ToString(CultureInfo.InvariantCulture),
        };
        var dataFiles = files.Select(f => new DataFile
        {
            FilePath = table.LocationOf(f.File.Key),
            SpecId = table.Spec.SpecId,
            Partition = f.Partition,
            RecordCount = f.File.RecordCount,
            FileSizeInBytes = f.File.FileSizeInBytes,
            ColumnSizes = f.File.ColumnSizes,
            ValueCounts = f.File.ValueCounts,
            NullValueCounts = f.File.NullValueCounts,
            NanValueCounts = f.File.NanValueCounts,
            LowerBounds = f.File.LowerBounds,
            UpperBounds = f.File.UpperBounds,
            SplitOffsets = f.File.SplitOffsets,
        }).ToList();
        var snapshot = await table.AppendAsync(dataFiles, summary, cancellationToken: cancellationToken);
        return new SinkCommit(snapshot.SnapshotId, stream, startOffset, endOffset, dataFiles.Sum(f => f.RecordCount), dataFiles.Count,
            DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TimestampMs));
    }

    private async Task<Table> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        if (_table is not null)
        {
            await _table.RefreshAsync(cancellationToken);
            return _table;
        }
        if (await catalog.TryLoadTableAsync(_id, cancellationToken) is { } existing)
            return _table = existing;
        catalog.CreateNamespaceIfMissing(_id.Namespace);
        var spec = PartitionTerms.Build(outputSchema, sink.Partition);
        try
        {
            return _table = await catalog.CreateTableAsync(_id, outputSchema, spec, cancellationToken: cancellationToken);
        }
        catch (CatalogException e) when (e.IsAlreadyExists)
        {
            return _table = await catalog.LoadTableAsync(_id, cancellationToken); // created concurrently
        }
    }

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}
