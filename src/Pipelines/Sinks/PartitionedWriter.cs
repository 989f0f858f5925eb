using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// A sink's open files: Parquet split by partition (<see cref="PartitionedDataWriter"/>), or, for raw file sinks with
/// <c>"format": "ndjson"</c>, one NDJSON writer.
/// </summary>
internal sealed class PartitionedWriter : IAsyncDisposable
{
    private readonly PartitionedDataWriter? _parquet;
    private readonly NdjsonFileWriter? _ndjson;

    public PartitionedWriter(IObjectStore store, string directory, IcebergSchema schema, PartitionSpec spec, DataFileWriterOptions options) =>
        _parquet = new PartitionedDataWriter(store, directory, schema, spec, options);

    private PartitionedWriter(NdjsonFileWriter ndjson) => _ndjson = ndjson;

    /// <summary>An unpartitioned writer of NDJSON files instead of Parquet.</summary>
    public static PartitionedWriter Ndjson(IObjectStore store, string directory, DataFileWriterOptions options, bool rawRecords) =>
        new(new NdjsonFileWriter(store, directory, options, rawRecords));

    public Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken) =>
        _ndjson is not null ? _ndjson.WriteAsync(batch, cancellationToken) : _parquet!.WriteAsync(batch, cancellationToken);

    public async Task<IReadOnlyList<SinkDataFile>> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_ndjson is not null)
            return [.. (await _ndjson.CompleteAsync(cancellationToken)).Select(file => new SinkDataFile(file, PartitionData.Empty))];
        return [.. (await _parquet!.CompleteAsync(cancellationToken)).Select(f => new SinkDataFile(f.File, f.Partition))];
    }

    public ValueTask DisposeAsync() => _ndjson is not null ? _ndjson.DisposeAsync() : _parquet!.DisposeAsync();
}
