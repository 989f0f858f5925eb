namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// A function of one value, as a struct the JIT specialises <see cref="UnaryKernel{TIn,TOut,TOp}"/> for (no
/// delegate call per row); a struct may carry parameters such as a decimal scale. <see cref="Apply"/> returns false
/// when the value has no result: the row fails with <see cref="Reason"/>.
/// </summary>
internal interface IUnaryOperation<TIn, TOut>
{
    bool Apply(TIn value, out TOut result);
    RowErrorReason Reason { get; }
    string Describe(TIn value);
}

/// <summary>A function of two values; see <see cref="IUnaryOperation{TIn,TOut}"/>.</summary>
internal interface IBinaryOperation<TLeft, TRight, TOut>
{
    bool Apply(TLeft left, TRight right, out TOut result);
    RowErrorReason Reason { get; }
    /// <summary>How a failed row is described in samples, e.g. "2147483647 + 1 overflows INTEGER".</summary>
    string Describe(TLeft left, TRight right);
}
