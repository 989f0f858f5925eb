using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary><c>s.f</c>: a struct's child column, NULL where the struct is NULL.</summary>
internal sealed class FieldAccessKernel(Kernel operand, int field, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var s = (StructArray)operand.Evaluate(context);
        var child = s.Fields[field];
        int n = context.Length;
        if (s.NullCount == 0 && s.Offset == 0 && child.Length == n) return child;
        var indices = new int[n];
        for (int i = 0; i < n; i++) indices[i] = s.IsValid(i) ? i + s.Offset : -1;
        return Gather.Take(child, indices);
    }
}

/// <summary><c>list[i]</c>: 1-based, negative from the end (-1 is the last), NULL when out of range.</summary>
internal sealed class ListIndexKernel(Kernel list, Kernel position, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        var p = position.Evaluate(context);
        var positions = Vectors.Values<long>(p);
        int n = context.Length;
        var offsets = l.ValueOffsets;
        var indices = new int[n];
        for (int i = 0; i < n; i++)
        {
            indices[i] = -1;
            if (l.IsNull(i) || p.IsNull(i)) continue;
            long length = offsets[i + 1] - offsets[i];
            long at = positions[i] > 0 ? positions[i] - 1 : positions[i] < 0 ? length + positions[i] : -1;
            if (at >= 0 && at < length) indices[i] = offsets[i] + (int)at;
        }
        return Gather.Take(l.Values, indices);
    }
}

/// <summary><c>{'a': x, 'b': y}</c>: a struct over the field columns.</summary>
internal sealed class MakeStructKernel(IReadOnlyList<Kernel> fields, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var children = fields.Select(f => Compact(f.Evaluate(context)).Data).ToArray();
        return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(Type), context.Length, 0, 0, [ArrowBuffer.Empty], children));
    }

    private static IArrowArray Compact(IArrowArray a) => a.Offset == 0 ? a : ArrowArrayFactory.BuildArray(a.Data.Clone());
}

/// <summary><c>[x, y, z]</c>: a list per row over the item columns.</summary>
internal sealed class MakeListKernel(IReadOnlyList<Kernel> items, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length, k = items.Count;
        var values = items.Select(i => i.Evaluate(context)).ToArray();
        var rows = new object?[n];
        for (int i = 0; i < n; i++)
        {
            var list = new object?[k];
            for (int j = 0; j < k; j++) list[j] = ValueArrays.Get(values[j], Type.Element!, i);
            rows[i] = list;
        }
        return ValueArrays.FromValues(Type, rows);
    }
}
