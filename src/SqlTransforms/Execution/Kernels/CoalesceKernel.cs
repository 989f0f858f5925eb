using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>COALESCE: each argument evaluated for the rows still NULL after the ones before it.</summary>
internal sealed class CoalesceKernel(IReadOnlyList<Kernel> arguments, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        var outer = context.Active;
        var choice = new int[n];
        Array.Fill(choice, -1);
        var results = new IArrowArray[arguments.Count];
        var pending = new bool[n];
        for (int i = 0; i < n; i++) pending[i] = outer is null || outer[i];
        try
        {
            for (int a = 0; a < arguments.Count; a++)
            {
                context.Active = (bool[])pending.Clone();
                var r = results[a] = arguments[a].Evaluate(context);
                for (int i = 0; i < n; i++)
                    if (choice[i] < 0 && r.IsValid(i))
                    {
                        choice[i] = a;
                        pending[i] = false;
                    }
            }
        }
        finally
        {
            context.Active = outer;
        }
        return Interleave.Pick(Type, results, choice, n);
    }
}
