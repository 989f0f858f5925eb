using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>Compares two fixed-width columns of the same type into a BOOLEAN column, bits written directly.</summary>
internal sealed class CompareKernel<T, TOrder, TTest>(Kernel left, Kernel right) : Kernel(SqlType.Boolean)
    where T : unmanaged where TOrder : struct, IOrder<T> where TTest : struct, IComparisonTest
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = left.Evaluate(context);
        var r = right.Evaluate(context);
        int n = context.Length;
        var a = Vectors.Values<T>(l);
        var b = Vectors.Values<T>(r);
        var bits = new byte[(n + 7) / 8];
        int full = n & ~7;
        for (int i = 0; i < full; i += 8)
        {
            int v = 0;
            for (int k = 0; k < 8; k++)
                if (TTest.Test(TOrder.Compare(a[i + k], b[i + k]))) v |= 1 << k;
            bits[i >> 3] = (byte)v;
        }
        for (int i = full; i < n; i++)
            if (TTest.Test(TOrder.Compare(a[i], b[i]))) Vectors.Set(bits, i);
        return Vectors.Boolean(bits, Vectors.And(Vectors.Validity(l), Vectors.Validity(r)), n);
    }
}

/// <summary>Compares VARCHAR or BLOB columns by their bytes (for UTF-8 that is code point order, as DuckDB orders).</summary>
internal sealed class BytesCompareKernel<TTest>(Kernel left, Kernel right) : Kernel(SqlType.Boolean) where TTest : struct, IComparisonTest
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (BinaryArray)left.Evaluate(context);
        var r = (BinaryArray)right.Evaluate(context);
        int n = context.Length;
        var bits = new byte[(n + 7) / 8];
        var validity = Vectors.And(Vectors.Validity(l), Vectors.Validity(r));
        // Offsets and bytes read once as spans: Arrow's GetBytes slices and checks validity on every call.
        var lo = l.ValueOffsets;
        var lb = l.ValueBuffer.Span;
        var ro = r.ValueOffsets;
        var rb = r.ValueBuffer.Span;
        for (int i = 0; i < n; i++)
            if (Vectors.Get(validity, i) && TTest.Test(lb[lo[i]..lo[i + 1]].SequenceCompareTo(rb[ro[i]..ro[i + 1]])))
                Vectors.Set(bits, i);
        return Vectors.Boolean(bits, validity, n);
    }
}

/// <summary>Compares BOOLEAN columns (false before true).</summary>
internal sealed class BooleanCompareKernel<TTest>(Kernel left, Kernel right) : Kernel(SqlType.Boolean) where TTest : struct, IComparisonTest
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (BooleanArray)left.Evaluate(context);
        var r = (BooleanArray)right.Evaluate(context);
        int n = context.Length;
        var bits = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++)
            if (TTest.Test((l.GetValue(i) ?? false).CompareTo(r.GetValue(i) ?? false))) Vectors.Set(bits, i);
        return Vectors.Boolean(bits, Vectors.And(Vectors.Validity(l), Vectors.Validity(r)), n);
    }
}
