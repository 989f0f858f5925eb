using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// A sub-expression used twice by one form (the operand of BETWEEN, both sides of IS DISTINCT FROM, NULLIF's first
/// argument): evaluated once per batch, then served from the cache.
/// </summary>
internal sealed class SharedKernel(Kernel inner) : Kernel(inner.Type)
{
    private EvalContext? _context;
    private int _batch = -1;
    private IArrowArray? _result;

    public override IArrowArray Evaluate(EvalContext context)
    {
        if (_result is not null && ReferenceEquals(_context, context) && _batch == context.Batch) return _result;
        _result = inner.Evaluate(context);
        _context = context;
        _batch = context.Batch;
        return _result;
    }
}
