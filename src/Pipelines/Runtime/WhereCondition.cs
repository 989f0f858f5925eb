using System.Globalization;
using System.Text;
using Apache.Arrow;
using DataPlane.Pipelines.Sql;
using DataPlane.Pipelines.Streams;
using TypeId = DataPlane.Catalog.Types.TypeId;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A WHERE clause bound to a stream's columns: column positions resolved and literals converted to each column's
/// units once, when the pipeline is created, so evaluating a row allocates nothing. Its tree is as deep as the
/// statement's nesting (<see cref="PipelineSqlParser.MaxDepth"/>), which bounds the recursion here.
/// </summary>
internal abstract class WhereCondition
{
    /// <summary>SQL's three-valued logic: a comparison with a null is unknown (null), and only true keeps a row.</summary>
    public abstract bool? Evaluate(RecordBatch batch, int row);

    /// <summary>Checks each comparison against its column's type; an <see cref="ArgumentException"/> names what does not fit.</summary>
    public static WhereCondition Bind(Predicate predicate, StreamDefinition stream) => predicate switch
    {
        Predicate.And a => new All(a.Terms.Select(t => Bind(t, stream)).ToArray()),
        Predicate.Or o => new Any(o.Terms.Select(t => Bind(t, stream)).ToArray()),
        Predicate.Not n => new Negation(Bind(n.Inner, stream)),
        Predicate.IsNull n => new NullTest(IndexOf(stream, n.Column), n.Negated),
        Predicate.Compare c => BindCompare(c, stream),
        _ => throw new ArgumentException($"WHERE: {predicate} is not supported."),
    };

    private static int IndexOf(StreamDefinition stream, string column)
    {
        for (int i = 0; i < stream.Fields.Count; i++)
            if (stream.Fields[i].Name == column)
                return i;
        throw new ArgumentException($"Stream '{stream.Name}' has no column '{column}'; its columns are {string.Join(", ", stream.Fields.Select(f => f.Name))}.");
    }

    private static WhereCondition BindCompare(Predicate.Compare c, StreamDefinition stream)
    {
        int column = IndexOf(stream, c.Column);
        var field = stream.Fields[column];
        var op = c.Operator switch
        {
            "=" => Operator.Equal,
            "!=" => Operator.NotEqual,
            "<" => Operator.Less,
            "<=" => Operator.LessOrEqual,
            ">" => Operator.Greater,
            _ => Operator.GreaterOrEqual,
        };
        WhereCondition? bound = field.Type.TypeId switch
        {
            TypeId.Boolean when c.Literal is bool b && op is Operator.Equal or Operator.NotEqual => new BooleanCompare(column, op, b),
            TypeId.String when c.Literal is string s => new StringCompare(column, op, Encoding.UTF8.GetBytes(s)),
            TypeId.Timestamp or TypeId.TimestampTz when c.Literal is string s && TryMicros(s, out long micros) => new LongCompare(column, op, micros),
            TypeId.Date when c.Literal is string s && TryMicros(s, out long micros) => new LongCompare(column, op, Math.DivRem(micros, 86_400_000_000L, out long rest) - (rest < 0 ? 1 : 0)),
            TypeId.Long when c.Literal is long l => new LongCompare(column, op, l),
            TypeId.Int or TypeId.Long or TypeId.Float or TypeId.Double when c.Literal is long or double => new DoubleCompare(column, op, Convert.ToDouble(c.Literal, CultureInfo.InvariantCulture)),
            _ => null,
        };
        return bound ?? throw new ArgumentException($"WHERE compares column '{c.Column}' ({field.Type}) with {Describe(c.Literal)} using {c.Operator}, which does not fit its type.");
    }

    private static bool TryMicros(string text, out long micros)
    {
        micros = 0;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            return false;
        micros = (value.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
        return true;
    }

    private static string Describe(object literal) => literal switch
    {
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(literal, CultureInfo.InvariantCulture)!,
    };

    private enum Operator { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual }

    private static bool Holds(Operator op, int comparison) => op switch
    {
        Operator.Equal => comparison == 0,
        Operator.NotEqual => comparison != 0,
        Operator.Less => comparison < 0,
        Operator.LessOrEqual => comparison <= 0,
        Operator.Greater => comparison > 0,
        _ => comparison >= 0,
    };

    private sealed class All(WhereCondition[] terms) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row)
        {
            bool unknown = false;
            foreach (var term in terms)
            {
                var value = term.Evaluate(batch, row);
                if (value == false) return false;
                unknown |= value is null;
            }
            return unknown ? null : true;
        }
    }

    private sealed class Any(WhereCondition[] terms) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row)
        {
            bool unknown = false;
            foreach (var term in terms)
            {
                var value = term.Evaluate(batch, row);
                if (value == true) return true;
                unknown |= value is null;
            }
            return unknown ? null : false;
        }
    }

    private sealed class Negation(WhereCondition inner) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row) => !inner.Evaluate(batch, row);
    }

    private sealed class NullTest(int column, bool negated) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row) => batch.Column(column).IsNull(row) != negated;
    }

    private sealed class BooleanCompare(int column, Operator op, bool literal) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row) =>
            ((BooleanArray)batch.Column(column)).GetValue(row) is { } value ? Holds(op, value.CompareTo(literal)) : null;
    }

    /// <summary>Strings compare by their UTF-8 bytes, which is code point order (as DuckDB and Iceberg order them).</summary>
    private sealed class StringCompare(int column, Operator op, byte[] literal) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row)
        {
            var array = (StringArray)batch.Column(column);
            return array.IsNull(row) ? null : Holds(op, array.GetBytes(row).SequenceCompareTo(literal));
        }
    }

    /// <summary>Long, timestamp (microseconds) and date (days) columns against a whole-number literal.</summary>
    private sealed class LongCompare(int column, Operator op, long literal) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row)
        {
            var array = batch.Column(column);
            if (array.IsNull(row)) return null;
            long value = array switch
            {
                Int64Array l => l.Values[row],
                TimestampArray t => t.Values[row],
                Date32Array d => d.Values[row],
                _ => throw new NotSupportedException($"WHERE on {array.Data.DataType.Name} columns is not supported."),
            };
            return Holds(op, value.CompareTo(literal));
        }
    }

    private sealed class DoubleCompare(int column, Operator op, double literal) : WhereCondition
    {
        public override bool? Evaluate(RecordBatch batch, int row)
        {
            var array = batch.Column(column);
            if (array.IsNull(row)) return null;
            double value = array switch
            {
                Int32Array i => i.Values[row],
                Int64Array l => l.Values[row],
                FloatArray f => f.Values[row],
                DoubleArray d => d.Values[row],
                _ => throw new NotSupportedException($"WHERE on {array.Data.DataType.Name} columns is not supported."),
            };
            return Holds(op, value.CompareTo(literal));
        }
    }
}
