using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Pipelines.Sql;
using DataPlane.Pipelines.Streams;
using ArrowSchema = Apache.Arrow.Schema;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The compiled SELECT: picks (and renames) columns and keeps the rows the WHERE clause is true for. Bound once
/// against the stream's schema, so unknown columns and ill-typed literals are refused when the pipeline is created.
/// </summary>
internal sealed class BatchTransform
{
    private readonly int[] _columnIndexes;
    private readonly WhereCondition? _where;
    private readonly StreamDefinition _stream;

    public BatchTransform(StreamDefinition stream, PipelineStatement statement)
    {
        _stream = stream;
        var fields = new List<StreamField>();
        if (statement.Columns is null)
        {
            _columnIndexes = Enumerable.Range(0, stream.Fields.Count).ToArray();
            fields.AddRange(stream.Fields);
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            _columnIndexes = new int[statement.Columns.Count];
            for (int i = 0; i < statement.Columns.Count; i++)
            {
                var p = statement.Columns[i];
                int index = IndexOf(p.Column);
                if (!names.Add(p.OutputName))
                    throw new ArgumentException($"The SELECT list names '{p.OutputName}' twice; give each output column its own name (AS ...).");
                _columnIndexes[i] = index;
                var f = stream.Fields[index];
                fields.Add(f with { Id = i + 1, Name = p.OutputName });
            }
        }
        if (statement.Where is not null)
            _where = WhereCondition.Bind(statement.Where, stream);
        OutputFields = fields;
        // SELECT * of a schemaless stream still holds each record's JSON text, which NDJSON sinks write as is.
        OutputSchema = new StreamDefinition("output", fields, schemaless: stream.Schemaless && statement.Columns is null, DateTimeOffset.UnixEpoch);
    }

    public IReadOnlyList<StreamField> OutputFields { get; }
    /// <summary>The output as a (nameless) stream definition: its Arrow and Iceberg schemas are the sink's.</summary>
    public StreamDefinition OutputSchema { get; }
    public ArrowSchema ArrowSchema => OutputSchema.ArrowSchema;

    private int IndexOf(string column)
    {
        for (int i = 0; i < _stream.Fields.Count; i++)
            if (_stream.Fields[i].Name == column)
                return i;
        throw new ArgumentException($"Stream '{_stream.Name}' has no column '{column}'; its columns are {string.Join(", ", _stream.Fields.Select(f => f.Name))}.");
    }

    public RecordBatch Apply(RecordBatch batch)
    {
        var columns = new IArrowArray[_columnIndexes.Length];
        for (int i = 0; i < columns.Length; i++)
            columns[i] = batch.Column(_columnIndexes[i]);
        if (_where is null)
            return new RecordBatch(ArrowSchema, columns, batch.Length);
        var keep = new bool[batch.Length];
        int kept = 0;
        for (int row = 0; row < batch.Length; row++)
            if (keep[row] = _where.Evaluate(batch, row) == true)
                kept++;
        if (kept == batch.Length)
            return new RecordBatch(ArrowSchema, columns, batch.Length);
        for (int i = 0; i < columns.Length; i++)
            columns[i] = ArrowFilter.Apply(columns[i], keep, kept);
        return new RecordBatch(ArrowSchema, columns, kept);
    }
}
