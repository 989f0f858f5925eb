using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// abs, round, trunc, floor, ceil, mod, sqrt, pow, exp, ln, log10, log2, sign, random, greatest, least, with DuckDB's
/// types (floor and ceil of integers are DOUBLE, round halves away from zero, sign is a small integer). The square root
/// or logarithm of a value outside the function's domain fails the record (DuckDB: an out-of-range error).
/// </summary>
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
        r.Add(new ScalarFunction("trunc", "math", "trunc(x[, digits]): drops the fraction (or the digits past the given ones), towards zero"))
            .Add([I], I, (a, t) => a[0])
            .Add([L], L, (a, t) => a[0])
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('t')))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, TruncIntegerDigits>(a[0], a[1], t))
            .Add([L, I], L, (a, t) => new BinaryKernel<long, int, long, TruncIntegerDigits>(a[0], a[1], t))
            .Add([D, I], D, (a, t) => new BinaryKernel<double, int, double, TruncDigits>(a[0], a[1], t));
        r.Add(new ScalarFunction("sqrt", "math", "square root; a negative value fails the record"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, Domain>(a[0], t, new Domain('s')));
        r.Add(new ScalarFunction("exp", "math", "e to the power of x"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, DoubleFunction>(a[0], t, new DoubleFunction('e')));
        r.Add(new ScalarFunction("ln", "math", "natural logarithm; zero or a negative value fails the record"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, Domain>(a[0], t, new Domain('n')));
        r.Add(new ScalarFunction("log10", "math", "logarithm to base 10; zero or a negative value fails the record"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, Domain>(a[0], t, new Domain('0')));
        r.Alias("log", "log10");
        r.Add(new ScalarFunction("log2", "math", "logarithm to base 2; zero or a negative value fails the record"))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, Domain>(a[0], t, new Domain('2')));
        r.Add(new ScalarFunction("pow", "math", "pow(x, y): x to the power of y (IEEE 754: pow(-8, 1/3) is NaN, pow(0, -1) infinity)"))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, Power>(a[0], a[1], t));
        r.Alias("power", "pow");
        r.Add(new ScalarFunction("sign", "math", "-1, 0 or 1 (0 for NaN)"))
            .Add([I], I, (a, t) => new UnaryKernel<int, int, Sign>(a[0], t))
            .Add([L], I, (a, t) => new UnaryKernel<long, int, Sign>(a[0], t))
            .Add([D], I, (a, t) => new UnaryKernel<double, int, Sign>(a[0], t));
        r.Add(new ScalarFunction("random", "math", "a random DOUBLE in [0, 1), a new one per record", deterministic: false))
            .Add([], D, (a, t) => new RandomKernel());
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
            r = f switch
            {
                'a' => Math.Abs(v),
                'f' => Math.Floor(v),
                'c' => Math.Ceiling(v),
                't' => Math.Truncate(v),
                'e' => Math.Exp(v),
                _ => Math.Round(v, MidpointRounding.AwayFromZero),
            };
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

    /// <summary>sqrt, ln, log10, log2: a value outside the domain fails (DuckDB's out-of-range error); NaN stays NaN.</summary>
    internal readonly struct Domain(char f) : IUnaryOperation<double, double>
    {
        public bool Apply(double v, out double r)
        {
            if (f == 's' ? v < 0 : v <= 0) { r = 0; return false; }
            r = f switch { 's' => Math.Sqrt(v), 'n' => Math.Log(v), '0' => Math.Log10(v), _ => Math.Log2(v) };
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(double v) => f == 's'
            ? $"sqrt({ValueText.Double(v)}): no square root of a negative number"
            : $"{(f == 'n' ? "ln" : f == '0' ? "log10" : "log2")}({ValueText.Double(v)}): no logarithm of {(v == 0 ? "zero" : "a negative number")}";
    }

    /// <summary>trunc(x, digits) as DuckDB: towards zero at 10^-digits; where scaling overflows (huge digits, infinity) x itself.</summary>
    internal struct TruncDigits : IBinaryOperation<double, int, double>
    {
        public bool Apply(double v, int digits, out double r)
        {
            double modifier = Math.Pow(10, Math.Abs((double)digits));
            r = digits < 0 ? Math.Truncate(v / modifier) * modifier : Math.Truncate(v * modifier) / modifier;
            if (!double.IsFinite(r)) r = v;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(double v, int d) => "";
    }

    /// <summary>trunc of an integer to tens, hundreds... (negative digits); positive digits leave it as it is.</summary>
    internal struct TruncIntegerDigits : IBinaryOperation<int, int, int>, IBinaryOperation<long, int, long>
    {
        public bool Apply(int v, int digits, out int r) { Apply((long)v, digits, out long wide); r = (int)wide; return true; }
        public bool Apply(long v, int digits, out long r)
        {
            if (digits >= 0) { r = v; return true; }
            if (digits < -18) { r = 0; return true; }
            long modifier = 1;
            for (int i = 0; i < -digits; i++) modifier *= 10;
            r = v / modifier * modifier;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(int v, int d) => "";
        public string Describe(long v, int d) => "";
    }

    internal struct Power : IBinaryOperation<double, double, double>
    {
        public bool Apply(double x, double y, out double r) { r = Math.Pow(x, y); return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(double x, double y) => "";
    }

    internal struct Sign : IUnaryOperation<int, int>, IUnaryOperation<long, int>, IUnaryOperation<double, int>
    {
        public bool Apply(int v, out int r) { r = Math.Sign(v); return true; }
        public bool Apply(long v, out int r) { r = Math.Sign(v); return true; }
        public bool Apply(double v, out int r) { r = double.IsNaN(v) ? 0 : Math.Sign(v); return true; }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(int v) => "";
        public string Describe(long v) => "";
        public string Describe(double v) => "";
    }

    /// <summary>random(): never folded (not deterministic), one value per record.</summary>
    private sealed class RandomKernel() : Kernel(SqlType.Double)
    {
        public override IArrowArray Evaluate(EvalContext context)
        {
            var bytes = Vectors.Allocate<double>(context.Length, out var values);
            for (int i = 0; i < values.Length; i++) values[i] = Random.Shared.NextDouble();
            return Vectors.Fixed(Type, bytes, null, context.Length);
        }
    }
}
