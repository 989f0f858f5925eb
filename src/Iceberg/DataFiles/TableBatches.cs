using Apache.Arrow;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>Arrow batches into a table in one snapshot: written as Parquet data files, then committed.</summary>
public static class TableBatches
{
    /// <summary>Writes the batches and commits them as one fast append.</summary>
    public static async Task<Snapshot> AppendAsync(Table table, IEnumerable<RecordBatch> batches,
        DataFileWriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        var files = await WriteAsync(table, batches, options, cancellationToken);
        return await table.AppendAsync(files, cancellationToken: cancellationToken);
    }

    /// <summary>Writes the batches and commits them as an overwrite of the rows matching <paramref name="filter"/>.</summary>
    public static async Task<Snapshot> OverwriteAsync(Table table, Expression filter, IEnumerable<RecordBatch> batches,
        DataFileWriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        var files = await WriteAsync(table, batches, options, cancellationToken);
        return await table.OverwriteAsync(filter, files, cancellationToken: cancellationToken);
    }

    private static async Task<IReadOnlyList<Manifests.DataFile>> WriteAsync(Table table, IEnumerable<RecordBatch> batches,
        DataFileWriterOptions? options, CancellationToken cancellationToken)
    {
        await using var writer = new TableDataWriter(table, options);
        foreach (var batch in batches)
            await writer.WriteAsync(batch, cancellationToken);
        return await writer.CompleteAsync(cancellationToken);
    }
}
