using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>coalesce, nullif, if/iff: lazy forms; a branch is evaluated (and can fail a row) only for the rows it decides.</summary>
internal static class ConditionalFunctions
{
    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("coalesce", "conditional", "the first argument that is not NULL", resolver: Coalesce, signatures: "coalesce(T, T...)"));
        r.Add(new ScalarFunction("if", "conditional", "if(condition, then, else)", resolver: If, signatures: "if(BOOLEAN, T, T)"));
        r.Alias("iff", "if");
        r.Add(new ScalarFunction("nullif", "conditional", "NULL when both arguments are equal, else the first", resolver: NullIf, signatures: "nullif(T, T)"));
    }

    private static FunctionBinding? Coalesce(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count == 0) return null;
        var type = TypeCoercion.Common(args.Select(a => a.Type));
        if (type is null) return null;
        return new FunctionBinding(args.Select(_ => type).ToList(), type, (k, t) => new CoalesceKernel(k, t), PropagatesNull: false);
    }

    private static FunctionBinding? If(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 3 || ScalarFunction.ConversionCost(args[0], SqlType.Boolean) == int.MaxValue) return null;
        var type = TypeCoercion.Common(args[1].Type, args[2].Type);
        if (type is null) return null;
        return new FunctionBinding([SqlType.Boolean, type, type], type, (k, t) => new CaseKernel([(k[0], k[1])], k[2], t), PropagatesNull: false);
    }

    private static FunctionBinding? NullIf(IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2) return null;
        var type = ComparisonOperators.CommonType(args[0], args[1]);
        if (type is null || type.IsNested) return null;
        return new FunctionBinding([type, type], type, (k, t) =>
        {
            var first = new SharedKernel(k[0]);
            var equal = ComparisonOperators.Compile("=", t, first, k[1]);
            return new CaseKernel([(equal, new ConstantKernel(null, t))], first, t);
        }, PropagatesNull: false);
    }
}
