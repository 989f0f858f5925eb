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
        using var rows = ColumnWise(batch)
            ? PartitionRows.GroupColumnWise(_spec, _sources, batch)
            : PartitionRows.GroupRowWise(batch.Length, row => PartitionOf(batch, row));
        await WritePartitionsAsync(batch, rows, cancellationToken);
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

    /// <summary>Each partition's rows go to its writer as one batch: the batch itself when it is all one partition,
    /// a zero-copy slice when the partition's rows are consecutive, otherwise one gather of its rows.</summary>
    private async Task WritePartitionsAsync(RecordBatch batch, PartitionRows rows, CancellationToken cancellationToken)
    {
        long batchBytes = DataFileWriter.ArrowBytes(batch);
        for (int g = 0; g < rows.Partitions.Count; g++)
        {
            var indices = rows.RowsOf(g);
            var writer = WriterFor(rows.Partitions[g]);
            long bytes = batchBytes * indices.Count / batch.Length;
            if (indices.Count == batch.Length)
                await writer.WriteAsync(batch, bytes, cancellationToken);
            else if (indices[^1] - indices[0] == indices.Count - 1)
                await writer.WriteAsync(batch.Slice(indices[0], indices.Count), bytes, cancellationToken);
            else
            {
                using var taken = ArrowTake.Take(batch, indices);
                await writer.WriteAsync(taken, bytes, cancellationToken);
            }
        }
    }

    private bool ColumnWise(RecordBatch batch)
    {
        for (int f = 0; f < _sources.Length; f++)
            if (!ColumnTransform.Supports(_spec.Fields[f].Transform, batch.Column(_sources[f].Column))) return false;
        return true;
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
