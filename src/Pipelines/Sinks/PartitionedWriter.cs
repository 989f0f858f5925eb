using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// A sink's open files: Parquet split by partition (<see cref="PartitionedDataWriter"/>), or, for raw file sinks with
/// <c>"format": "ndjson"</c>, one NDJSON writer. For an updating aggregate's sink (<see cref="Updating"/>), each batch's
/// key columns also go to equality delete files, split by the same partitions: the rows of a commit replace the
/// older rows of their keys.
/// </summary>
internal sealed class PartitionedWriter : IAsyncDisposable
{
    private readonly PartitionedDataWriter? _parquet;
    private readonly NdjsonFileWriter? _ndjson;
    private readonly PartitionedDataWriter? _deletes;
    private readonly string[] _keys = [];

    public PartitionedWriter(IObjectStore store, string directory, IcebergSchema schema, PartitionSpec spec, DataFileWriterOptions options) =>
        _parquet = new PartitionedDataWriter(store, directory, schema, spec, options);

    private PartitionedWriter(NdjsonFileWriter ndjson) => _ndjson = ndjson;

    private PartitionedWriter(PartitionedDataWriter parquet, PartitionedDataWriter deletes, string[] keys)
    {
        _parquet = parquet;
        _deletes = deletes;
        _keys = keys;
    }

    /// <summary>
    /// Rows into data files and their keys (the columns <paramref name="keyIds"/> of <paramref name="schema"/>, which
    /// the table's partition spec must be over) into equality delete files with those field ids: Iceberg's merge-on-read
    /// upsert, committed as one row delta.
    /// </summary>
    public static PartitionedWriter Updating(IObjectStore store, string directory, IcebergSchema schema, PartitionSpec spec, DataFileWriterOptions options,
        IReadOnlyList<int> keyIds)
    {
        var keyColumns = keyIds.Select(id => schema.Columns.First(c => c.Id == id)).ToList();
        return new PartitionedWriter(new PartitionedDataWriter(store, directory, schema, spec, options),
            new PartitionedDataWriter(store, directory, new IcebergSchema(schema.SchemaId, keyColumns), spec, options), [.. keyColumns.Select(c => c.Name)]);
    }

    /// <summary>An unpartitioned writer of NDJSON files instead of Parquet.</summary>
    public static PartitionedWriter Ndjson(IObjectStore store, string directory, DataFileWriterOptions options, bool rawRecords) =>
        new(new NdjsonFileWriter(store, directory, options, rawRecords));

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        if (_ndjson is not null)
        {
            await _ndjson.WriteAsync(batch, cancellationToken);
            return;
        }
        await _parquet!.WriteAsync(batch, cancellationToken);
        if (_deletes is not null)
            await _deletes.WriteAsync(Keys(batch), cancellationToken);
    }

    /// <summary>The batch's key columns alone (the same arrays).</summary>
    private RecordBatch Keys(RecordBatch batch)
    {
        var fields = new Field[_keys.Length];
        var columns = new IArrowArray[_keys.Length];
        for (int k = 0; k < _keys.Length; k++)
        {
            int index = batch.Schema.GetFieldIndex(_keys[k]);
            if (index < 0)
                throw new ArgumentException($"The key column '{_keys[k]}' is not among the batch's columns ({string.Join(", ", batch.Schema.FieldsList.Select(f => f.Name))}).");
            fields[k] = batch.Schema.FieldsList[index];
            columns[k] = batch.Column(index);
        }
        return new RecordBatch(new Apache.Arrow.Schema(fields, metadata: null), columns, batch.Length);
    }

    public async Task<IReadOnlyList<SinkDataFile>> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_ndjson is not null)
            return [.. (await _ndjson.CompleteAsync(cancellationToken)).Select(file => new SinkDataFile(file, PartitionData.Empty))];
        var files = (await _parquet!.CompleteAsync(cancellationToken)).Select(f => new SinkDataFile(f.File, f.Partition)).ToList();
        if (_deletes is not null)
            files.AddRange((await _deletes.CompleteAsync(cancellationToken)).Select(f => new SinkDataFile(f.File, f.Partition, EqualityDeletes: true)));
        return files;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ndjson is not null)
            await _ndjson.DisposeAsync();
        if (_parquet is not null)
            await _parquet.DisposeAsync();
        if (_deletes is not null)
            await _deletes.DisposeAsync();
    }
}
