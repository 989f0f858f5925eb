using Apache.Arrow;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Writes Arrow batches as rolling Parquet files under a data folder, split by partition: each batch's rows are
/// grouped by their partition tuple (the spec's transforms applied a column at a time where the source column allows,
/// see <see cref="PartitionRows"/>) and each partition gets its own files under <c>&lt;partition path&gt;/</c>.
/// Shared by table writes (<see cref="TableDataWriter"/>) and pipeline sinks.
/// </summary>
public sealed class PartitionedDataWriter : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly string _directory;
    private readonly Schemas.Schema _schema;
    private readonly PartitionSpec _spec;
    private readonly DataFileWriterOptions _options;
    private readonly Dictionary<PartitionData, DataFileWriter> _writers = [];
    private readonly (string Name, PrimitiveType Type)[] _sourceColumns;
    private readonly (int Column, PrimitiveType Type)[] _sources;
    private readonly object?[] _rowSources;

    /// <param name="directory">The data folder's key in <paramref name="store"/> (a table's <c>&lt;table&gt;/data</c>).</param>
    public PartitionedDataWriter(IObjectStore store, string directory, Schemas.Schema schema, PartitionSpec spec, DataFileWriterOptions? options = null)
    {
        _store = store;
        _directory = directory.TrimEnd('/');
        _schema = schema;
        _spec = spec;
        _options = options ?? new DataFileWriterOptions();
        _sourceColumns = spec.Fields.Select(f =>
        {
            var column = schema.Columns.FirstOrDefault(c => c.Id == f.SourceId) ?? throw new NotSupportedException(
                $"Partition field '{f.Name}' takes nested column '{schema.FindColumnName(f.SourceId)}'; only top-level source columns are supported.");
            return (column.Name, (PrimitiveType)column.Type);
        }).ToArray();
        _sources = new (int, PrimitiveType)[_sourceColumns.Length];
        _rowSources = new object?[schema.HighestFieldId + 1];
    }

    public async Task WriteAsync(RecordBatch batch, CancellationToken cancellationToken = default)
    {
        if (batch.Length == 0) return;
        if (_spec.IsUnpartitioned)
        {
            await WriterFor(PartitionData.Empty).WriteAsync(batch, cancellationToken);
            return;
        }
        // Located by name for each batch: a pipeline's output columns need not come in the table's order.
        for (int f = 0; f < _sources.Length; f++)
        {
            var (name, type) = _sourceColumns[f];
            int column = batch.Schema.GetFieldIndex(name);
            _sources[f] = column >= 0 ? (column, type) : throw new ArgumentException(
                $"Partition source column '{name}' is not among the batch's columns ({string.Join(", ", batch.Schema.FieldsList.Select(c => c.Name))}).");
        }
        using var rows = ColumnWise(batch)
            ? PartitionRows.GroupColumnWise(_spec, _sources, batch)
            : PartitionRows.GroupRowWise(batch.Length, row => PartitionOf(batch, row));
        await WritePartitionsAsync(batch, rows, cancellationToken);
    }

    /// <summary>Closes every open file and returns the files written, each with its partition tuple.</summary>
    public async Task<IReadOnlyList<(PartitionData Partition, WrittenDataFile File)>> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var files = new List<(PartitionData, WrittenDataFile)>();
        foreach (var (partition, writer) in _writers)
            foreach (var written in await writer.CompleteAsync(cancellationToken))
                files.Add((partition, written));
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
            string directory = _spec.IsUnpartitioned ? _directory : _directory + "/" + _spec.PartitionPath(_schema, partition);
            writer = new DataFileWriter(_store, directory, _schema, _options);
            _writers[partition] = writer;
        }
        return writer;
    }
}
