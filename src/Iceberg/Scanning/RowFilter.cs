using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Types;
using Schema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// Evaluates a row filter on the rows of an Arrow batch read with a table schema (top-level columns by field id): a
/// row matches when the filter is true for it; a comparison with null is not true. Used to delete rows exactly
/// (copy-on-write rewrites, position deletes) where metrics can only say "might match".
/// </summary>
internal sealed class RowFilter(Schema schema, Expression filter)
{
    /// <summary>Sets <paramref name="matches"/>[i] for each row of the batch.</summary>
    public void Evaluate(RecordBatch batch, Span<bool> matches) => Evaluate(filter, batch, matches);

    private void Evaluate(Expression e, RecordBatch batch, Span<bool> result)
    {
        switch (e)
        {
            case Expression.Constant c:
                result.Fill(c.Value);
                return;
            case Expression.AndExpression a:
            {
                Evaluate(a.Left, batch, result);
                var right = new bool[result.Length];
                Evaluate(a.Right, batch, right);
                for (int i = 0; i < result.Length; i++) result[i] &= right[i];
                return;
            }
            case Expression.OrExpression o:
            {
                Evaluate(o.Left, batch, result);
                var right = new bool[result.Length];
                Evaluate(o.Right, batch, right);
                for (int i = 0; i < result.Length; i++) result[i] |= right[i];
                return;
            }
            case Expression.Predicate p:
                Evaluate(BoundPredicate.Bind(schema, p), p.Column, batch, result);
                return;
            default:
                throw new NotSupportedException($"Cannot evaluate {e} on rows.");
        }
    }

    private void Evaluate(BoundPredicate p, string column, RecordBatch batch, Span<bool> result)
    {
        int index = -1;
        for (int c = 0; c < schema.Columns.Count; c++)
            if (schema.Columns[c].Id == p.FieldId) index = c;
        if (index < 0)
            throw new NotSupportedException($"Cannot filter rows on nested column '{column}'; only top-level columns are supported.");
        var array = batch.Column(schema.Columns[index].Name);
        switch (p.Operation)
        {
            case PredicateOperation.IsNull:
                for (int i = 0; i < result.Length; i++) result[i] = array.IsNull(i);
                return;
            case PredicateOperation.NotNull:
                for (int i = 0; i < result.Length; i++) result[i] = !array.IsNull(i);
                return;
        }
        var compare = Comparer(array, p.Type);
        for (int i = 0; i < result.Length; i++)
        {
            if (array.IsNull(i)) { result[i] = false; continue; }
            result[i] = p.Operation switch
            {
                PredicateOperation.Equal => compare(i, p.Literals[0]) is 0,
                PredicateOperation.In => Any(p.Literals, compare, i),
                PredicateOperation.LessThan => compare(i, p.Literals[0]) is < 0 and not int.MinValue,
                PredicateOperation.LessThanOrEqual => compare(i, p.Literals[0]) is <= 0 and not int.MinValue,
                PredicateOperation.GreaterThan => compare(i, p.Literals[0]) is > 0,
                PredicateOperation.GreaterThanOrEqual => compare(i, p.Literals[0]) is >= 0,
                _ => false,
            };
        }
    }

    private static bool Any(IReadOnlyList<object> literals, Func<int, object, int> compare, int row)
    {
        foreach (var l in literals)
            if (compare(row, l) == 0) return true;
        return false;
    }

    /// <summary>Compares row i with a literal (in-memory value of the column's type); int.MinValue when unordered (NaN).</summary>
    private static Func<int, object, int> Comparer(IArrowArray array, PrimitiveType type) => array switch
    {
        Int32Array a => (i, l) => a.Values[i].CompareTo((int)l),
        Date32Array a => (i, l) => a.Values[i].CompareTo((int)l),
        Int64Array a => (i, l) => a.Values[i].CompareTo((long)l),
        TimestampArray a => (i, l) => a.Values[i].CompareTo((long)l),
        Time64Array a => (i, l) => a.Values[i].CompareTo((long)l),
        FloatArray a => (i, l) => float.IsNaN(a.Values[i]) || float.IsNaN((float)l) ? int.MinValue : a.Values[i].CompareTo((float)l),
        DoubleArray a => (i, l) => double.IsNaN(a.Values[i]) || double.IsNaN((double)l) ? int.MinValue : a.Values[i].CompareTo((double)l),
        BooleanArray a => (i, l) => a.GetValue(i)!.Value.CompareTo((bool)l),
        StringArray a => (i, l) => a.GetBytes(i).SequenceCompareTo(Encoding.UTF8.GetBytes((string)l)),
        BinaryArray a => (i, l) => a.GetBytes(i).SequenceCompareTo((byte[])l),
        Decimal128Array a => (i, l) => BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + i) * 16, 16))
            .CompareTo(((DecimalValue)l).Unscaled),
        FixedSizeBinaryArray a when type.TypeId == TypeId.Uuid => (i, l) => a.GetBytes(i).SequenceCompareTo(((Guid)l).ToByteArray(bigEndian: true)),
        FixedSizeBinaryArray a => (i, l) => a.GetBytes(i).SequenceCompareTo((byte[])l),
        _ => throw new NotSupportedException($"Cannot filter rows on a column of Arrow type {array.Data.DataType.Name}."),
    };
}
