using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// A function of several arguments of any representation (strings, lists) computed row by row into a fixed-width
/// column. <see cref="Prepare"/> casts the argument arrays once per batch, so the per-row call is a typed read.
/// </summary>
internal interface IRowFunction<TOut>
{
    void Prepare(IArrowArray[] arguments);
    /// <summary>False when the row fails (see <see cref="Reason"/>).</summary>
    bool Apply(int row, out TOut value);
    RowErrorReason Reason { get; }
    string Describe(int row);
}

/// <summary>A function of several arguments written as UTF-8 into a VARCHAR column.</summary>
internal interface IStringRowFunction
{
    void Prepare(IArrowArray[] arguments);
    /// <summary>Writes the row's value; false when the row fails.</summary>
    bool Write(int row, Utf8Builder output);
    RowErrorReason Reason { get; }
    string Describe(int row);
}

/// <summary>Runs an <see cref="IRowFunction{TOut}"/> over the rows where no argument is NULL (BOOLEAN results bit-packed).</summary>
internal sealed class RowKernel<TOut, TOp>(IReadOnlyList<Kernel> arguments, SqlType type, TOp operation) : Kernel(type)
    where TOut : unmanaged where TOp : struct, IRowFunction<TOut>
{
    private TOp _operation = operation;

    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        var args = new IArrowArray[arguments.Count];
        byte[]? validity = null;
        for (int a = 0; a < args.Length; a++)
        {
            args[a] = arguments[a].Evaluate(context);
            validity = a == 0 ? Vectors.Validity(args[a]) : Vectors.And(validity, Vectors.Validity(args[a]));
        }
        _operation.Prepare(args);
        bool boolean = typeof(TOut) == typeof(bool);
        var bits = boolean ? new byte[(n + 7) / 8] : null;
        var bytes = boolean ? null : Vectors.Allocate<TOut>(n, out _);
        Span<TOut> output = boolean ? Span<TOut>.Empty : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, TOut>(bytes.AsSpan());
        for (int i = 0; i < n; i++)
        {
            if (!Vectors.Get(validity, i)) continue;
            if (_operation.Apply(i, out var value))
            {
                if (boolean) { if ((bool)(object)value) Vectors.Set(bits!, i); }
                else output[i] = value;
                continue;
            }
            validity ??= Vectors.AllValid(n);
            Vectors.Clear(validity, i);
            if (context.Fail(i, _operation.Reason)) context.Errors.AddSample(i, _operation.Describe(i));
        }
        return boolean ? Vectors.Boolean(bits!, validity, n) : Vectors.Fixed(Type, bytes!, validity, n);
    }
}

/// <summary>Runs an <see cref="IStringRowFunction"/> over the rows where no argument is NULL.</summary>
internal sealed class StringRowKernel<TOp>(IReadOnlyList<Kernel> arguments, SqlType type, TOp operation) : Kernel(type)
    where TOp : struct, IStringRowFunction
{
    private TOp _operation = operation;

    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        var args = new IArrowArray[arguments.Count];
        byte[]? validity = null;
        int hint = 16;
        for (int a = 0; a < args.Length; a++)
        {
            args[a] = arguments[a].Evaluate(context);
            validity = a == 0 ? Vectors.Validity(args[a]) : Vectors.And(validity, Vectors.Validity(args[a]));
            if (args[a] is BinaryArray b) hint = Math.Max(hint, b.ValueBuffer.Length);
        }
        _operation.Prepare(args);
        var builder = new Utf8Builder(n, hint);
        for (int i = 0; i < n; i++)
        {
            if (!Vectors.Get(validity, i)) { builder.AppendNull(); continue; }
            if (_operation.Write(i, builder)) continue;
            builder.AppendNull();
            if (context.Fail(i, _operation.Reason)) context.Errors.AddSample(i, _operation.Describe(i));
        }
        return builder.Build(binary: Type.Kind == SqlTypeKind.Blob);
    }
}
