using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>abs, round, floor, ceil, mod, greatest, least, with DuckDB's types (floor and ceil of integers are DOUBLE, round halves away from zero).</summary>
internal static class MathFunctions
{
    public static void Register(FunctionRegistry r)
    {
        var I = SqlType.Integer; var L = SqlType.BigInt; var D = SqlType.Double;
        r.Add(new ScalarFunction("abs", "math", "absolute value"))
            .Add([I], I, (a, t) => new UnaryKernel<int, int, AbsInt>(a[0], t))
            .Add([L], L, (a, t) => new UnaryKernel<long, long, AbsLong>(a[0], t))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('a')));
        r.Add(new ScalarFunction("floor", "math", "largest whole number not above"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('f')));
        r.Add(new ScalarFunction("ceil", "math", "smallest whole number not below"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('c')));
        r.Alias("ceiling", "ceil");
        r.Add(new ScalarFunction("round", "math", "round(x[, digits]): halves away from zero"))
            .Add([I], I, (a, t) => a[0])
            .Add([L], L, (a, t) => a[0])
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('r')))
            .Add([D, I], D, (a, t) => new BinaryKernel<double, int, double, RoundDigits>(a[0], a[1], t));
        r.Add(new ScalarFunction("mod", "math", "remainder, with the sign of the dividend"))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, ArithmeticOperators.ModuloInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => new BinaryKernel<long, long, long, ArithmeticOperators.ModuloLong>(a[0], a[1], t))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, ArithmeticOperators.DoubleOp>(a[0], a[1], t, new ArithmeticOperators.DoubleOp('%')));
        r.Add(new ScalarFunction("greatest", "math", "the largest argument, ignoring NULLs", resolver: args => Extreme(args, ">"), signatures: "greatest(T, T...)"));
        r.Add(new ScalarFunction("least", "math", "the smallest argument, ignoring NULLs", resolver: args => Extreme(args, "<"), signatures: "least(T, T...)"));
    }

    /// <summary>greatest/least as a chain of CASEs: each step keeps the better of the running value and the next argument.</summary>
    private static FunctionBinding? Extreme(IReadOnlyList<ArgumentInfo> args, string op)
    {
        if (args.Count == 0) return null;
        var type = TypeCoercion.Common(args.Select(a => a.Type));
        if (type is null || type.IsNested) return null;
        return new FunctionBinding(args.Select(_ => type).ToList(), type, (k, t) => new ExtremeKernel(k, t, op), PropagatesNull: false);
    }

    private sealed class ExtremeKernel(IReadOnlyList<Kernel> arguments, SqlType type, string op) : Kernel(type)
    {
        public override IArrowArray Evaluate(EvalContext context)
        {
            int n = context.Length;
            var values = arguments.Select(a => a.Evaluate(context)).ToArray();
            var choice = new int[n];
            Array.Fill(choice, -1);
            // compare pairwise with a comparison kernel over two "columns" of a scratch context
            var scratch = new EvalContext();
            var better = ComparisonOperators.Compile(op, Type, new ColumnKernel(0, Type), new ColumnKernel(1, Type));
            var current = values[0];
            for (int i = 0; i < n; i++) if (current.IsValid(i)) choice[i] = 0;
            for (int a = 1; a < values.Length; a++)
            {
                var best = Interleave.Pick(Type, values, choice, n);
                scratch.Start([values[a], best], n, context.NowMicros);
                var wins = (BooleanArray)better.Evaluate(scratch);
                for (int i = 0; i < n; i++)
                    if (values[a].IsValid(i) && (choice[i] < 0 || wins.GetValue(i) == true)) choice[i] = a;
            }
            return Interleave.Pick(Type, values, choice, n);
        }
    }

    internal struct AbsInt : IUnaryOperation<int, int>
    {
        public bool Apply(int v, out int r) { r = v < 0 ? unchecked(-v) : v; return v != int.MinValue; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int v) => $"abs({v}) overflows INTEGER";
    }

    internal struct AbsLong : IUnaryOperation<long, long>
    {
        public bool Apply(long v, out long r) { r = v < 0 ? unchecked(-v) : v; return v != long.MinValue; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long v) => $"abs({v}) overflows BIGINT";
    }

    internal readonly struct DoubleFunction(char f) : IUnaryOperation<double, double>
    {
        public bool Apply(double v, out double r)
        {
            r = f switch { 'a' => Math.Abs(v), 'f' => Math.Floor(v), 'c' => Math.Ceiling(v), _ => Math.Round(v, MidpointRounding.AwayFromZero) };
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(double v) => "";
    }

    internal struct RoundDigits : IBinaryOperation<double, int, double>
    {
        public bool Apply(double v, int digits, out double r)
        {
            if (!double.IsFinite(v) && digits >= 0) { r = v; return true; }
            if (digits >= 0)
            {
                if (digits > 15) { r = v; return true; }
                r = Math.Round(v, digits, MidpointRounding.AwayFromZero);
                return true;
            }
            double factor = Math.Pow(10, -digits);
            double whole = Math.Round(v / factor, MidpointRounding.AwayFromZero);
            // DuckDB rounds infinity and NaN to tens, hundreds... as 0
            r = double.IsFinite(v) ? whole * factor : 0;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(double v, int d) => "";
    }
}
