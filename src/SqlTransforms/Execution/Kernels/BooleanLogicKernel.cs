using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// AND / OR over any number of terms with SQL's three-valued logic, word by word over the bitmaps. Each term after
/// the first is evaluated with the rows already decided (false for AND, true for OR) inactive, so
/// <c>x &lt;&gt; 0 AND 10 / x &gt; 1</c> does not fail the rows where x is 0.
/// </summary>
internal sealed class BooleanLogicKernel(IReadOnlyList<Kernel> terms, bool isAnd) : Kernel(SqlType.Boolean)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        int bytes = (n + 7) / 8;
        // decided: rows whose result is settled (a false term for AND, a true one for OR); unknown: a NULL term seen
        var decided = new byte[bytes];
        var unknown = new byte[bytes];
        var outer = context.Active;
        bool[]? active = null;
        try
        {
            for (int t = 0; t < terms.Count; t++)
            {
                if (t > 0)
                {
                    active ??= new bool[n];
                    for (int i = 0; i < n; i++) active[i] = (outer is null || outer[i]) && !Vectors.Get(decided, i);
                    context.Active = active;
                }
                var term = (BooleanArray)terms[t].Evaluate(context);
                var values = term.ValueBuffer.Span;
                var validity = Vectors.Validity(term);
                int offset = term.Offset;
                for (int i = 0; i < n; i++)
                {
                    bool valid = Vectors.Get(validity, i);
                    if (!valid) { Vectors.Set(unknown, i); continue; }
                    int j = i + offset;
                    bool value = (values[j >> 3] & (1 << (j & 7))) != 0;
                    if (value != isAnd) Vectors.Set(decided, i);
                }
            }
        }
        finally
        {
            context.Active = outer;
        }
        var result = new byte[bytes];
        var resultValidity = new byte[bytes];
        for (int b = 0; b < bytes; b++)
        {
            // AND: true when nothing decided it false and nothing was unknown; valid when decided or nothing unknown
            int d = decided[b], u = unknown[b];
            result[b] = (byte)(isAnd ? ~d & ~u : d);
            resultValidity[b] = (byte)(d | ~u);
        }
        return Vectors.Boolean(result, resultValidity, n);
    }
}
