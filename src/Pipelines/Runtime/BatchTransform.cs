using System.Globalization;
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
    private readonly Predicate? _where;
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
        {
            foreach (var column in statement.Where.Columns())
                IndexOf(column);
            _where = Bind(statement.Where);
        }
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

    /// <summary>Checks each comparison against its column's type; date and time literals become the column's own units.</summary>
    private Predicate Bind(Predicate p)
    {
        switch (p)
        {
            case Predicate.Compare c:
                var type = _stream.Fields[IndexOf(c.Column)].Type.TypeId;
                bool ok = type switch
                {
                    Catalog.Types.TypeId.Boolean => c.Literal is bool && c.Operator is "=" or "!=",
                    Catalog.Types.TypeId.String => c.Literal is string,
                    Catalog.Types.TypeId.Timestamp or Catalog.Types.TypeId.TimestampTz or Catalog.Types.TypeId.Date => c.Literal is string s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
                    Catalog.Types.TypeId.Int or Catalog.Types.TypeId.Long or Catalog.Types.TypeId.Float or Catalog.Types.TypeId.Double => c.Literal is long or double,
                    _ => false,
                };
                if (!ok)
                    throw new ArgumentException($"WHERE compares column '{c.Column}' ({_stream.Fields[IndexOf(c.Column)].Type}) with {Describe(c.Literal)} using {c.Operator}, which does not fit its type.");
                return type switch
                {
                    Catalog.Types.TypeId.Timestamp or Catalog.Types.TypeId.TimestampTz => c with { Literal = Micros((string)c.Literal) },
                    Catalog.Types.TypeId.Date => c with { Literal = (int)(Micros((string)c.Literal) / 86_400_000_000L) },
                    _ => c,
                };
            case Predicate.And a: return new Predicate.And(Bind(a.Left), Bind(a.Right));
            case Predicate.Or o: return new Predicate.Or(Bind(o.Left), Bind(o.Right));
            case Predicate.Not n: return new Predicate.Not(Bind(n.Inner));
            default: return p;
        }
    }

    private static string Describe(object literal) => literal switch
    {
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(literal, CultureInfo.InvariantCulture)!,
    };

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
            if (keep[row] = Evaluate(_where, batch, row) == true)
                kept++;
        if (kept == batch.Length)
            return new RecordBatch(ArrowSchema, columns, batch.Length);
        for (int i = 0; i < columns.Length; i++)
            columns[i] = ArrowFilter.Apply(columns[i], keep, kept);
        return new RecordBatch(ArrowSchema, columns, kept);
    }

    /// <summary>SQL's three-valued logic: a comparison with a null is unknown (null), and only true keeps a row.</summary>
    private bool? Evaluate(Predicate p, RecordBatch batch, int row)
    {
        switch (p)
        {
            case Predicate.And a:
            {
                var l = Evaluate(a.Left, batch, row);
                if (l == false) return false;
                var r = Evaluate(a.Right, batch, row);
                return r == false ? false : l == true && r == true ? true : null;
            }
            case Predicate.Or o:
            {
                var l = Evaluate(o.Left, batch, row);
                if (l == true) return true;
                var r = Evaluate(o.Right, batch, row);
                return r == true ? true : l == false && r == false ? false : null;
            }
            case Predicate.Not n:
                return !Evaluate(n.Inner, batch, row);
            case Predicate.IsNull n:
                return batch.Column(IndexOf(n.Column)).IsNull(row) != n.Negated;
            case Predicate.Compare c:
            {
                var array = batch.Column(IndexOf(c.Column));
                if (array.IsNull(row)) return null;
                int cmp = array switch
                {
                    StringArray s => string.CompareOrdinal(s.GetString(row), (string)c.Literal),
                    BooleanArray b => b.GetValue(row)!.Value.CompareTo((bool)c.Literal),
                    TimestampArray t => t.Values[row].CompareTo((long)c.Literal),
                    Date32Array d => d.Values[row].CompareTo((int)c.Literal),
                    Int32Array i => ((double)i.Values[row]).CompareTo(Convert.ToDouble(c.Literal, CultureInfo.InvariantCulture)),
                    Int64Array l when c.Literal is long lit => l.Values[row].CompareTo(lit),
                    Int64Array l => ((double)l.Values[row]).CompareTo((double)c.Literal),
                    FloatArray f => ((double)f.Values[row]).CompareTo(Convert.ToDouble(c.Literal, CultureInfo.InvariantCulture)),
                    DoubleArray d => d.Values[row].CompareTo(Convert.ToDouble(c.Literal, CultureInfo.InvariantCulture)),
                    _ => throw new NotSupportedException($"WHERE on {array.Data.DataType.Name} columns is not supported."),
                };
                return c.Operator switch
                {
                    "=" => cmp == 0,
                    "!=" => cmp != 0,
                    "<" => cmp < 0,
                    "<=" => cmp <= 0,
                    ">" => cmp > 0,
                    _ => cmp >= 0,
                };
            }
            default:
                return null;
        }
    }

    private static long Micros(string text) =>
        (DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
}
