using Apache.Arrow;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Writes Arrow batches into a table's data folder with the table's current schema and default partition spec: rows
/// are split by their partition tuple (computed with the spec's transforms) and each partition gets its own rolling
/// Parquet files under <c>data/&lt;partition path&gt;/</c>. <see cref="CompleteAsync"/> returns the manifest
/// entries' <see cref="DataFile"/>s, ready for an append or overwrite commit. The table's write properties
/// (<see cref="TableWriteProperties"/>) take the place of the options' codec, sizes and profile where it sets them.
/// </summary>
public sealed class TableDataWriter : IAsyncDisposable
{
    private readonly Table _table;
    private readonly PartitionSpec _spec;
    private readonly PartitionedDataWriter _files;

    public TableDataWriter(Table table, DataFileWriterOptions? options = null)
    {
        _table = table;
        _spec = table.Spec;
        _files = new PartitionedDataWriter(table.Store, table.TableKey.TrimEnd('/') + "/data", table.Schema, table.Spec,
            TableWriteProperties.Apply(table.Metadata.Properties, options));
    }

    public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken = default) => _files.WriteAsync(batch, cancellationToken);

    /// <summary>Closes every open file and returns the data files written, each with its partition tuple.</summary>
    public async Task<IReadOnlyList<DataFile>> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var files = new List<DataFile>();
        foreach (var (partition, written) in await _files.CompleteAsync(cancellationToken))
        {
            files.Add(written.ToDataFile(_table.LocationOf(written.Key), _spec.SpecId, partition));
        }
        return files;
    }

    public ValueTask DisposeAsync() => _files.DisposeAsync();
}
