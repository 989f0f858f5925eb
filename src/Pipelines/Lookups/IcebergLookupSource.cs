using System.Globalization;
using Apache.Arrow;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Scanning;

namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// A catalog's Iceberg table as a lookup table: its current snapshot, read through the table scan (row-level deletes
/// applied). The snapshot id is the version: a reload reads the table again only when another snapshot is current.
/// </summary>
internal sealed class IcebergLookupSource(ICatalog catalog, TableIdentifier id, long maxBytes) : ILookupSource
{
    public string Name { get; } = id.ToString();

    public async Task<Schema> SchemaAsync(CancellationToken cancellationToken)
    {
        var table = await LoadAsync(cancellationToken);
        var tasks = await table.NewScan().PlanFilesAsync(cancellationToken);
        LookupLimits.CheckSize(Name, Bytes(tasks), maxBytes);
        return ArrowSchemaMapping.ToArrow(table.Schema);
    }

    public async Task<LookupLoad?> LoadIfChangedAsync(Schema schema, string? loaded, CancellationToken cancellationToken)
    {
        var table = await LoadAsync(cancellationToken);
        var scan = table.NewScan();
        string version = scan.Snapshot?.SnapshotId.ToString(CultureInfo.InvariantCulture) ?? "empty";
        if (version == loaded)
            return null;
        var tasks = await scan.PlanFilesAsync(cancellationToken);
        LookupLimits.CheckSize(Name, Bytes(tasks), maxBytes);
        var batches = new List<RecordBatch>();
        try
        {
            foreach (var task in tasks)
                await foreach (var batch in ScanTaskReader.ReadAsync(table, task, cancellationToken))
                    batches.Add(batch);
            return new LookupLoad(LookupRows.Combine(Name, schema, batches), version, "catalog");
        }
        finally
        {
            foreach (var batch in batches) batch.Dispose();
        }
    }

    private async Task<Iceberg.Operations.Table> LoadAsync(CancellationToken cancellationToken) =>
        await catalog.TryLoadTableAsync(id, cancellationToken)
        ?? throw new KeyNotFoundException($"No table '{Name}' in the catalog (JOIN {Name}): a lookup join reads an existing Iceberg table, or db.<database>.<table>.");

    /// <summary>The data files' bytes, and each delete file's once (several data files share one).</summary>
    private static long Bytes(IReadOnlyList<FileScanTask> tasks) =>
        tasks.Sum(t => t.File.FileSizeInBytes) + tasks.SelectMany(t => t.DeleteFiles).DistinctBy(d => d.FilePath).Sum(d => d.FileSizeInBytes);
}
