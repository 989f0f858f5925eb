using System.Buffers;
using Apache.Arrow;
using DataPlane.Catalog.Manifests;
using DataPlane.Catalog.Operations;
using Table = DataPlane.Catalog.Operations.Table;
using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Types;

namespace DataPlane.Catalog.DataFiles;

/// <summary>
/// Writes Arrow batches into a table's data folder with the table's current schema and default partition spec: rows
/// are split by their partition tuple (computed with the spec's transforms) and each partition gets its own rolling
/// Parquet files under <c>data/&lt;partition path&gt;/</c>. <see cref="CompleteAsync"/> returns the manifest
/// entries' <see cref="DataFile"/>s, ready for an append or overwrite commit.
/// </summary>
public sealed class TableDataWriter : IAsyncDisposable
{
    private readonly Table _table;
    private readonly Schemas.Schema _schema;
    private readonly PartitionSpec _spec;
    private readonly DataFileWriterOptions _options;
    private readonly Dictionary<PartitionData, DataFileWriter> _writers = [];
    private readonly (int Column, PrimitiveType Type)[] _sources;
    private readonly object?[] _rowSources;

    public TableDataWriter(Table table, DataFileWriterOptions? options = null)
    {
        _table = table;
        _schema = table.Schema;
        _spec = table.Spec;
        _options = options ?? new DataFileWriterOptions();
        var columnIds = _schema.Columns.Select(c => c.Id).ToList();
        _sources = _spec.Fields.Select(f =>
        {
            int column = columnIds.IndexOf(f.SourceId);
            if (column < 0)
                throw new NotSupportedException(
                    $"Partition field '{f.Name}' takes nested column '{_schema.FindColumnName(f.SourceId)}'; only top-level source columns are supported.");
            return (column, (PrimitiveType)_schema.Columns[column].Type);
        }).ToArray();
        _rowSources = new object?[_schema.HighestFieldId + 1];
    }

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken = default)
    {
        if (batch.Length == 0) return;
        if (_spec.IsUnpartitioned)
        {
            await WriterFor(PartitionData.Empty).WriteAsync(batch, cancellationToken);
            return;
        }
        // Rows are split into runs of one partition; clustered input (by time, say) makes few, long runs.
        long batchBytes = DataFileWriter.ArrowBytes(batch);
        if (ColumnWise(batch))
        {
            await WriteColumnWiseAsync(batch, batchBytes, cancellationToken);
            return;
        }
        PartitionData? current = null;
        int runStart = 0;
        for (int row = 0; row < batch.Length; row++)
        {
            var partition = PartitionOf(batch, row);
            if (current is not null && !partition.Equals(current))
            {
                await WriteRunAsync(current, batch, runStart, row - runStart, batchBytes, cancellationToken);
                runStart = row;
            }
            current = partition;
        }
        await WriteRunAsync(current!, batch, runStart, batch.Length - runStart, batchBytes, cancellationToken);
    }

    /// <summary>Closes every open file and returns the data files written, each with its partition tuple.</summary>
    public async Task<IReadOnlyList<DataFile>> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var files = new List<DataFile>();
        foreach (var (partition, writer) in _writers)
        {
            foreach (var written in await writer.CompleteAsync(cancellationToken))
            {
                files.Add(new DataFile
                {
                    FilePath = _table.LocationOf(written.Key),
                    SpecId = _spec.SpecId,
                    Partition = partition,
                    RecordCount = written.RecordCount,
                    FileSizeInBytes = written.FileSizeInBytes,
                    ColumnSizes = written.ColumnSizes,
                    ValueCounts = written.ValueCounts,
                    NullValueCounts = written.NullValueCounts,
                    NanValueCounts = written.NanValueCounts,
                    LowerBounds = written.LowerBounds,
                    UpperBounds = written.UpperBounds,
                    SplitOffsets = written.SplitOffsets,
                });
            }
        }
        return files;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var writer in _writers.Values)
            await writer.DisposeAsync();
        _writers.Clear();
    }

    private Task WriteRunAsync(PartitionData partition, RecordBatch batch, int start, int length, long batchBytes, CancellationToken cancellationToken)
    {
        var run = start == 0 && length == batch.Length ? batch : batch.Slice(start, length);
        return WriterFor(partition).WriteAsync(run, batchBytes * length / batch.Length, cancellationToken);
    }

    private bool ColumnWise(RecordBatch batch)
    {
        for (int f = 0; f < _sources.Length; f++)
            if (!ColumnTransform.Supports(_spec.Fields[f].Transform, batch.Column(_sources[f].Column))) return false;
        return true;
    }

    /// <summary>Partition keys are computed a column at a time from the Arrow buffers; a partition tuple is only
    /// built where a run of rows starts.</summary>
    private async Task WriteColumnWiseAsync(RecordBatch batch, long batchBytes, CancellationToken cancellationToken)
    {
        int n = batch.Length, fields = _sources.Length;
        var keys = ArrayPool<long>.Shared.Rent(n * fields);
        var nulls = ArrayPool<bool>.Shared.Rent(n * fields);
        try
        {
            for (int f = 0; f < fields; f++)
                ColumnTransform.Apply(_spec.Fields[f].Transform, _sources[f].Type, batch.Column(_sources[f].Column), keys.AsSpan(f * n, n), nulls.AsSpan(f * n, n));
            int runStart = 0;
            for (int row = 1; row < n; row++)
            {
                if (SameKey(keys, nulls, n, row, runStart)) continue;
                await WriteRunAsync(PartitionAt(keys, nulls, n, runStart), batch, runStart, row - runStart, batchBytes, cancellationToken);
                runStart = row;
            }
            await WriteRunAsync(PartitionAt(keys, nulls, n, runStart), batch, runStart, n - runStart, batchBytes, cancellationToken);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
            ArrayPool<bool>.Shared.Return(nulls);
        }
    }

    private bool SameKey(long[] keys, bool[] nulls, int n, int a, int b)
    {
        for (int f = 0; f < _sources.Length; f++)
        {
            int i = f * n;
            if (nulls[i + a] != nulls[i + b] || (!nulls[i + a] && keys[i + a] != keys[i + b])) return false;
        }
        return true;
    }

    private PartitionData PartitionAt(long[] keys, bool[] nulls, int n, int row)
    {
        var values = new object?[_sources.Length];
        for (int f = 0; f < values.Length; f++)
            values[f] = nulls[f * n + row] ? null : ColumnTransform.Value(_spec.Fields[f].Transform, _sources[f].Type, keys[f * n + row]);
        return new PartitionData(values);
    }

    private PartitionData PartitionOf(RecordBatch batch, int row)
    {
        for (int i = 0; i < _sources.Length; i++)
        {
            var (column, type) = _sources[i];
            _rowSources[_spec.Fields[i].SourceId] = PartitionSourceValues.At(batch.Column(column), type, row);
        }
        return _spec.Partition(_schema, id => _rowSources[id]);
    }

    private DataFileWriter WriterFor(PartitionData partition)
    {
        if (!_writers.TryGetValue(partition, out var writer))
        {
            string directory = _table.TableKey.TrimEnd('/') + "/data";
            if (!_spec.IsUnpartitioned)
                directory += "/" + _spec.PartitionPath(_schema, partition);
            writer = new DataFileWriter(_table.Store, directory, _schema, _options);
            _writers[partition] = writer;
        }
        return writer;
    }
}
