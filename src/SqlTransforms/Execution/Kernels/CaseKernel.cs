using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// Searched CASE: each WHEN is evaluated for the rows no earlier WHEN took, each THEN only for the rows its WHEN
/// took (failures elsewhere do not count), ELSE for the rest; the results are interleaved.
/// </summary>
internal sealed class CaseKernel(IReadOnlyList<(Kernel When, Kernel Then)> whens, Kernel otherwise, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        var outer = context.Active;
        var choice = new int[n];
        Array.Fill(choice, -1);
        var remaining = new bool[n];
        for (int i = 0; i < n; i++) remaining[i] = outer is null || outer[i];
        var results = new IArrowArray[whens.Count + 1];
        try
        {
            for (int w = 0; w < whens.Count; w++)
            {
                context.Active = (bool[])remaining.Clone();
                var condition = (BooleanArray)whens[w].When.Evaluate(context);
                var taken = new bool[n];
                for (int i = 0; i < n; i++)
                    if (remaining[i] && condition.GetValue(i) == true)
                    {
                        taken[i] = true;
                        remaining[i] = false;
                        choice[i] = w;
                    }
                context.Active = taken;
                results[w] = whens[w].Then.Evaluate(context);
            }
            context.Active = remaining;
            results[^1] = otherwise.Evaluate(context);
            for (int i = 0; i < n; i++)
                if (remaining[i] || choice[i] < 0) choice[i] = whens.Count;
        }
        finally
        {
            context.Active = outer;
        }
        return Interleave.Pick(Type, results, choice, n);
    }
}
