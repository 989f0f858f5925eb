using Apache.Arrow;
using DataPlane.Catalog.DataFiles;
using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Types;
using DataPlane.Pipelines.Runtime;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Catalog.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// Splits batches by partition (one data file writer per partition value, under the partition's path) and
/// collects the files written. Unpartitioned sinks use a single writer; NDJSON file sinks one NDJSON writer.
/// </summary>
internal sealed class PartitionedWriter(IObjectStore store, string directory, IcebergSchema schema, PartitionSpec spec, DataFileWriterOptions options) : IAsyncDisposable
{
    private readonly Dictionary<PartitionData, DataFileWriter> _writers = [];
    private NdjsonFileWriter? _ndjson;

    /// <summary>An unpartitioned writer of NDJSON files instead of Parquet (raw file sinks with <c>"format": "ndjson"</c>).</summary>
    public static PartitionedWriter Ndjson(IObjectStore store, string directory, IcebergSchema schema, DataFileWriterOptions options, bool rawRecords) =>
        new(store, directory, schema, PartitionSpec.Unpartitioned, options) { _ndjson = new NdjsonFileWriter(store, directory, options, rawRecords) };

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        if (_ndjson is not null)
        {
            await _ndjson.WriteAsync(batch, cancellationToken);
            return;
        }
        if (spec.IsUnpartitioned)
        {
            await Writer(PartitionData.Empty).WriteAsync(batch, cancellationToken);
            return;
        }
        var sources = spec.Fields.Select(f => (f.SourceId, Index: ColumnIndex(batch, f.SourceId))).ToArray();
        var rows = new Dictionary<PartitionData, bool[]>();
        var counts = new Dictionary<PartitionData, int>();
        for (int row = 0; row < batch.Length; row++)
        {
            var partition = spec.Partition(schema, id =>
            {
                var array = batch.Column(sources.First(s => s.SourceId == id).Index);
                return array.IsNull(row) ? null : Value(array, row);
            });
            if (!rows.TryGetValue(partition, out var mask))
                rows[partition] = mask = new bool[batch.Length];
            mask[row] = true;
            counts[partition] = counts.GetValueOrDefault(partition) + 1;
        }
        foreach (var (partition, mask) in rows)
        {
            var columns = new IArrowArray[batch.ColumnCount];
            for (int c = 0; c < columns.Length; c++)
                columns[c] = ArrowFilter.Apply(batch.Column(c), mask, counts[partition]);
            await Writer(partition).WriteAsync(new RecordBatch(batch.Schema, columns, counts[partition]), cancellationToken);
        }
    }

    public async Task<IReadOnlyList<SinkDataFile>> CompleteAsync(CancellationToken cancellationToken)
    {
        var files = new List<SinkDataFile>();
        if (_ndjson is not null)
            foreach (var file in await _ndjson.CompleteAsync(cancellationToken))
                files.Add(new SinkDataFile(file, PartitionData.Empty));
        foreach (var (partition, writer) in _writers)
            foreach (var file in await writer.CompleteAsync(cancellationToken))
                files.Add(new SinkDataFile(file, partition));
        return files;
    }

    private DataFileWriter Writer(PartitionData partition)
    {
        if (!_writers.TryGetValue(partition, out var writer))
        {
            string dir = spec.IsUnpartitioned ? directory : directory + "/" + spec.PartitionPath(schema, partition);
            _writers[partition] = writer = new DataFileWriter(store, dir, schema, options);
        }
        return writer;
    }

    private int ColumnIndex(RecordBatch batch, int fieldId)
    {
        string name = schema.FindColumnName(fieldId) ?? throw new ArgumentException($"Partition source field {fieldId} is not in the table schema.");
        int index = batch.Schema.GetFieldIndex(name);
        return index >= 0 ? index : throw new ArgumentException($"Partition source column '{name}' is not among the pipeline's output columns.");
    }

    private static object? Value(IArrowArray array, int row) => array switch
    {
        TimestampArray t => t.Values[row],
        Date32Array d => d.Values[row],
        Int32Array i => i.Values[row],
        Int64Array l => l.Values[row],
        StringArray s => s.GetString(row),
        BooleanArray b => b.GetValue(row),
        _ => throw new NotSupportedException($"Partitioning by a {array.Data.DataType.Name} column is not supported."),
    };

    public async ValueTask DisposeAsync()
    {
        if (_ndjson is not null)
            await _ndjson.DisposeAsync();
        foreach (var writer in _writers.Values)
            await writer.DisposeAsync();
    }
}
