
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// + - * / // % and unary minus. Integer arithmetic stays in its type and an overflow fails the row (as in DuckDB
/// and PostgreSQL); DECIMAL arithmetic is <see cref="DecimalArithmetic"/>'s; / is floating-point division (DuckDB's), // integer division; a zero divisor fails the row
/// (PostgreSQL's rule; DuckDB answers NULL or infinity). DOUBLE arithmetic otherwise follows IEEE 754 (1e308 * 10 is infinity), as in DuckDB.
/// Dates and timestamps take intervals and day counts.
/// </summary>
internal static class ArithmeticOperators
{
    public static void Register(FunctionRegistry r)
    {
        var I = SqlType.Integer; var L = SqlType.BigInt; var F = SqlType.Real; var D = SqlType.Double;
        var date = SqlType.Date; var ts = SqlType.Timestamp; var tz = SqlType.TimestampTz; var iv = SqlType.Interval;

        r.Add(new ScalarFunction("+", "operators", "addition", resolver: args => DecimalArithmetic.Bind('+', args)))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, AddInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => new BinaryKernel<long, long, long, AddLong>(a[0], a[1], t))
            .Add([F, F], F, (a, t) => new BinaryKernel<float, float, float, FloatOp>(a[0], a[1], t, new FloatOp('+')))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, DoubleOp>(a[0], a[1], t, new DoubleOp('+')))
            .Add([date, I], date, (a, t) => new BinaryKernel<int, int, int, AddInt>(a[0], a[1], t))
            .Add([I, date], date, (a, t) => new BinaryKernel<int, int, int, AddInt>(a[0], a[1], t))
            .Add([ts, iv], ts, (a, t) => new BinaryKernel<long, IntervalValue, long, AddInterval>(a[0], a[1], t, new AddInterval(1)))
            .Add([tz, iv], tz, (a, t) => new BinaryKernel<long, IntervalValue, long, AddInterval>(a[0], a[1], t, new AddInterval(1)))
            .Add([iv, ts], ts, (a, t) => new BinaryKernel<long, IntervalValue, long, AddInterval>(a[1], a[0], t, new AddInterval(1)))
            .Add([iv, iv], iv, (a, t) => new BinaryKernel<IntervalValue, IntervalValue, IntervalValue, IntervalOp>(a[0], a[1], t, new IntervalOp(1)));
        r.Add(new ScalarFunction("-", "operators", "subtraction", resolver: args => DecimalArithmetic.Bind('-', args)))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, SubtractInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => new BinaryKernel<long, long, long, SubtractLong>(a[0], a[1], t))
            .Add([F, F], F, (a, t) => new BinaryKernel<float, float, float, FloatOp>(a[0], a[1], t, new FloatOp('-')))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, DoubleOp>(a[0], a[1], t, new DoubleOp('-')))
            .Add([date, I], date, (a, t) => new BinaryKernel<int, int, int, SubtractInt>(a[0], a[1], t))
            .Add([date, date], L, (a, t) => new BinaryKernel<int, int, long, DayDifference>(a[0], a[1], t))
            .Add([ts, iv], ts, (a, t) => new BinaryKernel<long, IntervalValue, long, AddInterval>(a[0], a[1], t, new AddInterval(-1)))
            .Add([tz, iv], tz, (a, t) => new BinaryKernel<long, IntervalValue, long, AddInterval>(a[0], a[1], t, new AddInterval(-1)))
            .Add([ts, ts], iv, (a, t) => new BinaryKernel<long, long, IntervalValue, TimestampDifference>(a[0], a[1], t))
            .Add([tz, tz], iv, (a, t) => new BinaryKernel<long, long, IntervalValue, TimestampDifference>(a[0], a[1], t))
            .Add([iv, iv], iv, (a, t) => new BinaryKernel<IntervalValue, IntervalValue, IntervalValue, IntervalOp>(a[0], a[1], t, new IntervalOp(-1)));
        r.Add(new ScalarFunction("*", "operators", "multiplication", resolver: args => DecimalArithmetic.Bind('*', args)))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, MultiplyInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => new BinaryKernel<long, long, long, MultiplyLong>(a[0], a[1], t))
            .Add([F, F], F, (a, t) => new BinaryKernel<float, float, float, FloatOp>(a[0], a[1], t, new FloatOp('*')))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, DoubleOp>(a[0], a[1], t, new DoubleOp('*')));
        r.Add(new ScalarFunction("/", "operators", "division (floating point; // divides integers)"))
            .Add([F, F], F, (a, t) => new BinaryKernel<float, float, float, FloatOp>(a[0], a[1], t, new FloatOp('/')))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, DoubleOp>(a[0], a[1], t, new DoubleOp('/')));
        r.Add(new ScalarFunction("//", "operators", "integer division, rounding towards zero"))
            .Add([I, I], I, (a, t) => new BinaryKernel<int, int, int, DivideInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => new BinaryKernel<long, long, long, DivideLong>(a[0], a[1], t));
        r.Add(new ScalarFunction("%", "operators", "remainder, with the sign of the dividend", resolver: args => DecimalArithmetic.Bind('%', args)))
            .Add([I, I], I, (a, t) => a[1] is ConstantKernel { Value: int c } && ModuloByConstantKernel.Takes(c)
                ? new ModuloByConstantKernel(a[0], c, t) : new BinaryKernel<int, int, int, ModuloInt>(a[0], a[1], t))
            .Add([L, L], L, (a, t) => a[1] is ConstantKernel { Value: long c } && ModuloByConstantKernel.Takes(c)
                ? new ModuloByConstantKernel(a[0], c, t) : new BinaryKernel<long, long, long, ModuloLong>(a[0], a[1], t))
            .Add([D, D], D, (a, t) => new BinaryKernel<double, double, double, DoubleOp>(a[0], a[1], t, new DoubleOp('%')));
        r.Add(new ScalarFunction("negate", "operators", "unary minus", resolver: args => DecimalArithmetic.Bind('n', args)))
            .Add([I], I, (a, t) => new UnaryKernel<int, int, NegateInt>(a[0], t))
            .Add([L], L, (a, t) => new UnaryKernel<long, long, NegateLong>(a[0], t))
            .Add([F], F, (a, t) => new UnaryKernel<float, float, NegateFloat>(a[0], t))
            .Add([D], D, (a, t) => new UnaryKernel<double, double, NegateDouble>(a[0], t))
            .Add([iv], iv, (a, t) => new UnaryKernel<IntervalValue, IntervalValue, NegateInterval>(a[0], t));
    }

    private static string Text<T>(T v) => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!;

    internal struct AddInt : IBinaryOperation<int, int, int>
    {
        public bool Apply(int a, int b, out int r) { r = unchecked(a + b); return ((a ^ r) & (b ^ r)) >= 0; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int a, int b) => $"{a} + {b} overflows INTEGER";
    }

    internal struct AddLong : IBinaryOperation<long, long, long>
    {
        public bool Apply(long a, long b, out long r) { r = unchecked(a + b); return ((a ^ r) & (b ^ r)) >= 0; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long a, long b) => $"{a} + {b} overflows BIGINT";
    }

    internal struct SubtractInt : IBinaryOperation<int, int, int>
    {
        public bool Apply(int a, int b, out int r) { r = unchecked(a - b); return ((a ^ b) & (a ^ r)) >= 0; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int a, int b) => $"{a} - {b} overflows INTEGER";
    }

    internal struct SubtractLong : IBinaryOperation<long, long, long>
    {
        public bool Apply(long a, long b, out long r) { r = unchecked(a - b); return ((a ^ b) & (a ^ r)) >= 0; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long a, long b) => $"{a} - {b} overflows BIGINT";
    }

    internal struct MultiplyInt : IBinaryOperation<int, int, int>
    {
        public bool Apply(int a, int b, out int r) { long p = (long)a * b; r = (int)p; return p == r; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int a, int b) => $"{a} * {b} overflows INTEGER";
    }

    internal struct MultiplyLong : IBinaryOperation<long, long, long>
    {
        public bool Apply(long a, long b, out long r) { long high = Math.BigMul(a, b, out r); return high == r >> 63; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long a, long b) => $"{a} * {b} overflows BIGINT";
    }

    internal struct DivideInt : IBinaryOperation<int, int, int>
    {
        private bool _overflow;
        public bool Apply(int a, int b, out int r)
        {
            if (b == 0 || (b == -1 && a == int.MinValue)) { r = 0; _overflow = b != 0; return false; }
            r = a / b;
            return true;
        }
        public readonly RowErrorReason Reason => _overflow ? RowErrorReason.Overflow : RowErrorReason.DivisionByZero;
        public string Describe(int a, int b) => b == 0 ? $"{a} // 0" : $"{a} // {b} overflows INTEGER";
    }

    internal struct DivideLong : IBinaryOperation<long, long, long>
    {
        private bool _overflow;
        public bool Apply(long a, long b, out long r)
        {
            if (b == 0 || (b == -1 && a == long.MinValue)) { r = 0; _overflow = b != 0; return false; }
            r = a / b;
            return true;
        }
        public readonly RowErrorReason Reason => _overflow ? RowErrorReason.Overflow : RowErrorReason.DivisionByZero;
        public string Describe(long a, long b) => b == 0 ? $"{a} // 0" : $"{a} // {b} overflows BIGINT";
    }

    internal struct ModuloInt : IBinaryOperation<int, int, int>
    {
        public bool Apply(int a, int b, out int r)
        {
            if (b == 0) { r = 0; return false; }
            r = b == -1 ? 0 : a % b;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.DivisionByZero;
        public string Describe(int a, int b) => $"{a} % 0";
    }

    internal struct ModuloLong : IBinaryOperation<long, long, long>
    {
        public bool Apply(long a, long b, out long r)
        {
            if (b == 0) { r = 0; return false; }
            r = b == -1 ? 0 : a % b;
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.DivisionByZero;
        public string Describe(long a, long b) => $"{a} % 0";
    }

    /// <summary>DOUBLE arithmetic: a zero divisor or a finite pair with an infinite result fails the row.</summary>
    internal readonly struct DoubleOp(char op) : IBinaryOperation<double, double, double>
    {
        public bool Apply(double a, double b, out double r)
        {
            switch (op)
            {
                case '+': r = a + b; break;
                case '-': r = a - b; break;
                case '*': r = a * b; break;
                case '/': if (b == 0) { r = 0; return false; } r = a / b; break;
                default: if (b == 0) { r = 0; return false; } r = a % b; break;
            }
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.DivisionByZero;
        public string Describe(double a, double b) => $"{Text(a)} {op} 0";
    }

    internal readonly struct FloatOp(char op) : IBinaryOperation<float, float, float>
    {
        public bool Apply(float a, float b, out float r)
        {
            switch (op)
            {
                case '+': r = a + b; break;
                case '-': r = a - b; break;
                case '*': r = a * b; break;
                default: if (b == 0) { r = 0; return false; } r = a / b; break;
            }
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.DivisionByZero;
        public string Describe(float a, float b) => $"{Text(a)} / 0";
    }

    internal struct NegateInt : IUnaryOperation<int, int>
    {
        public bool Apply(int v, out int r) { r = unchecked(-v); return v != int.MinValue; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int v) => $"-({v}) overflows INTEGER";
    }

    internal struct NegateLong : IUnaryOperation<long, long>
    {
        public bool Apply(long v, out long r) { r = unchecked(-v); return v != long.MinValue; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long v) => $"-({v}) overflows BIGINT";
    }

    internal struct NegateFloat : IUnaryOperation<float, float>
    {
        public bool Apply(float v, out float r) { r = -v; return true; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(float v) => "";
    }

    internal struct NegateDouble : IUnaryOperation<double, double>
    {
        public bool Apply(double v, out double r) { r = -v; return true; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(double v) => "";
    }

    internal struct NegateInterval : IUnaryOperation<IntervalValue, IntervalValue>
    {
        public bool Apply(IntervalValue v, out IntervalValue r) { r = new IntervalValue(-v.Months, -v.Days, -v.Nanoseconds); return true; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(IntervalValue v) => "";
    }

    internal struct DayDifference : IBinaryOperation<int, int, long>
    {
        public bool Apply(int a, int b, out long r) { r = (long)a - b; return true; }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(int a, int b) => "";
    }

    internal struct TimestampDifference : IBinaryOperation<long, long, IntervalValue>
    {
        public bool Apply(long a, long b, out IntervalValue r)
        {
            long d = unchecked(a - b);
            if (((a ^ b) & (a ^ d)) < 0) { r = default; return false; }
            // DuckDB puts whole days into the days part and keeps the rest as time
            long days = d / Values.MicrosPerDay;
            r = new IntervalValue(0, (int)days, (d - days * Values.MicrosPerDay) * 1000);
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long a, long b) => "timestamp difference overflows INTERVAL";
    }

    internal readonly struct AddInterval(int sign) : IBinaryOperation<long, IntervalValue, long>
    {
        public bool Apply(long ts, IntervalValue i, out long r) =>
            Calendar.TryAdd(ts, sign > 0 ? i : new IntervalValue(-i.Months, -i.Days, -i.Nanoseconds), out r);
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(long ts, IntervalValue i) => "timestamp out of range after adding an interval";
    }

    internal readonly struct IntervalOp(int sign) : IBinaryOperation<IntervalValue, IntervalValue, IntervalValue>
    {
        public bool Apply(IntervalValue a, IntervalValue b, out IntervalValue r)
        {
            long months = a.Months + (long)sign * b.Months, days = a.Days + (long)sign * b.Days;
            long nanos = unchecked(a.Nanoseconds + sign * b.Nanoseconds);
            r = new IntervalValue((int)months, (int)days, nanos);
            return months == (int)months && days == (int)days;
        }
        public RowErrorReason Reason => RowErrorReason.Overflow;
        public string Describe(IntervalValue a, IntervalValue b) => "interval arithmetic overflows";
    }
}
