using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// AND / OR over any number of terms with SQL's three-valued logic, word by word over the bitmaps. Each term after
/// the first is evaluated with the rows already decided (false for AND, true for OR) inactive, so
/// <c>x &lt;&gt; 0 AND 10 / x &gt; 1</c> does not fail the rows where x is 0; and since SQL does not fix the order
/// of the terms (DuckDB reorders them), a failure in a row that a later term decides is forgiven too.
/// </summary>
/// <remarks>
/// In a condition (WHERE, a WHEN, and the terms of an AND/OR that is one), only TRUE counts, so there an AND row is
/// also decided by a NULL term: <c>NULL AND 1 / 0 = 1</c> cannot pass whatever the failing term gives.
/// </remarks>
internal sealed class BooleanLogicKernel(IReadOnlyList<Kernel> terms, bool isAnd, bool condition = false) : Kernel(SqlType.Boolean)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        int bytes = (n + 7) / 8;
        // decided: rows whose result is settled (a false term for AND, a true one for OR); unknown: a NULL term seen
        var decided = new byte[bytes];
        var unknown = new byte[bytes];
        // settled: rows no later term can change as far as the consumer cares (decided, or in a condition a NULL under AND)
        var settled = new byte[bytes];
        var outer = context.Active;
        bool[]? active = null;
        var failedBefore = context.Errors.FailedRows(n);
        int errorsBefore = context.Errors.Count;
        // rows that failed so far, to tell which failed inside the current term: such a term's value is no value
        var failedSoFar = failedBefore ?? new bool[n];
        try
        {
            for (int t = 0; t < terms.Count; t++)
            {
                if (t > 0)
                {
                    active ??= new bool[n];
                    for (int i = 0; i < n; i++) active[i] = (outer is null || outer[i]) && !Vectors.Get(settled, i);
                    context.Active = active;
                }
                int errorsBeforeTerm = context.Errors.Count;
                var term = (BooleanArray)terms[t].Evaluate(context);
                bool termFailed = context.Errors.Count != errorsBeforeTerm;
                var values = term.ValueBuffer.Span;
                var validity = Vectors.Validity(term);
                int offset = term.Offset;
                for (int i = 0; i < n; i++)
                {
                    if (termFailed && !failedSoFar[i] && context.Errors.HasFailed(i))
                    {
                        // failed in this term: it decides nothing; another term may still settle the row
                        failedSoFar[i] = true;
                        Vectors.Set(unknown, i);
                        continue;
                    }
                    bool valid = Vectors.Get(validity, i);
                    if (!valid)
                    {
                        Vectors.Set(unknown, i);
                        if (condition && isAnd) Vectors.Set(settled, i);
                        continue;
                    }
                    int j = i + offset;
                    bool value = (values[j >> 3] & (1 << (j & 7))) != 0;
                    if (value != isAnd) { Vectors.Set(decided, i); Vectors.Set(settled, i); }
                }
            }
        }
        finally
        {
            context.Active = outer;
        }
        if (context.Errors.Count > errorsBefore)
            for (int i = 0; i < n; i++)
                if (Vectors.Get(settled, i) && context.Errors.HasFailed(i) && (failedBefore is null || !failedBefore[i]))
                    context.Errors.Unmark(i);
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
