using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// + - * % and unary minus on DECIMAL(p,s), with DuckDB's result types: + and - give scale max(s1, s2) and
/// max(p1 - s1, p2 - s2) + scale + 1 digits, * gives DECIMAL(p1 + p2, s1 + s2), each at most 38 digits, % the
/// common type (DOUBLE where that needs more than 38 digits) (a product needing a scale above 38 is refused when binding, as DuckDB refuses it). An integer operand is
/// DECIMAL(10,0) (INTEGER) or DECIMAL(19,0) (BIGINT). A result beyond its precision fails the record (overflow), a
/// zero divisor of % too (division_by_zero). / goes to DOUBLE, as in DuckDB. Values are the unscaled Int128s Arrow's
/// decimal128 holds.
/// </summary>
internal static class DecimalArithmetic
{
    /// <summary>The binding of <paramref name="op"/> ('+', '-', '*', '%', or 'n' for unary minus) when a DECIMAL is involved; null otherwise.</summary>
    public static FunctionBinding? Bind(char op, IReadOnlyList<ArgumentInfo> args)
    {
        if (!args.Any(a => a.Type.Kind == SqlTypeKind.Decimal)) return null;
        if (args.Any(a => a.Type.Kind is not (SqlTypeKind.Decimal or SqlTypeKind.Integer or SqlTypeKind.BigInt or SqlTypeKind.Null))) return null;
        var types = args.Select(a => a.Type.Kind switch
        {
            SqlTypeKind.Decimal => a.Type,
            SqlTypeKind.Integer => SqlType.Decimal(10, 0),
            SqlTypeKind.BigInt => SqlType.Decimal(19, 0),
            _ => null,
        }).ToArray();
        var some = types.First(t => t is not null)!;
        for (int i = 0; i < types.Length; i++) types[i] ??= some;
        if (op == 'n')
        {
            if (args.Count != 1) return null;
            return new FunctionBinding(types!, types[0]!, (k, t) => new UnaryKernel<Int128, Int128, Negate>(k[0], t));
        }
        if (args.Count != 2) return null;
        var (l, r) = (types[0]!, types[1]!);
        SqlType result;
        switch (op)
        {
            case '*':
            {
                int scale = l.Scale + r.Scale;
                if (scale > SqlType.MaxDecimalPrecision)
                    throw new ArgumentRefusedException(0, $"{l} * {r} needs scale {scale}, above the {SqlType.MaxDecimalPrecision} a DECIMAL has; CAST one side to DOUBLE or to a DECIMAL of smaller scale");
                result = SqlType.Decimal(Math.Min(SqlType.MaxDecimalPrecision, l.Precision + r.Precision), scale);
                break;
            }
            case '%':
                // the common type (DuckDB's): DOUBLE when it would need more than 38 digits, where the overloads take it
                if (TypeCoercion.Common(l, r) is not { Kind: SqlTypeKind.Decimal } common) return null;
                result = common;
                break;
            default:
            {
                int scale = Math.Max(l.Scale, r.Scale);
                int whole = Math.Max(l.Precision - l.Scale, r.Precision - r.Scale) + 1;
                result = SqlType.Decimal(Math.Min(SqlType.MaxDecimalPrecision, whole + scale), scale);
                break;
            }
        }
        return new FunctionBinding([l, r], result, (k, t) => new BinaryKernel<Int128, Int128, Int128, Operation>(k[0], k[1], t, new Operation(op, l, r, t)));
    }

    /// <summary>a * b, false when the product does not fit an Int128.</summary>
    private static bool TryMultiply(Int128 a, Int128 b, out Int128 product)
    {
        product = unchecked(a * b);
        if (a == 0 || b == 0) return true;
        Int128 small = (Int128)1 << 62;
        if (a > -small && a < small && b > -small && b < small) return true;
        // decimals stay below 10^38 in magnitude, so neither is Int128.MinValue and the division cannot overflow
        return product / b == a && (product < 0) == ((a < 0) != (b < 0));
    }

    private static bool TryAdd(Int128 a, Int128 b, out Int128 sum)
    {
        sum = unchecked(a + b);
        return ((a ^ sum) & (b ^ sum)) >= 0;
    }

    internal struct Operation(char op, SqlType left, SqlType right, SqlType result) : IBinaryOperation<Int128, Int128, Int128>
    {
        private readonly Int128 _leftFactor = CastFunctions.Pow10(result.Scale - (op == '*' ? result.Scale : left.Scale));
        private readonly Int128 _rightFactor = CastFunctions.Pow10(result.Scale - (op == '*' ? result.Scale : right.Scale));
        private readonly Int128 _limit = CastFunctions.Pow10(result.Precision);
        private bool _byZero;

        public bool Apply(Int128 a, Int128 b, out Int128 r)
        {
            _byZero = false;
            r = 0;
            switch (op)
            {
                case '*':
                    if (!TryMultiply(a, b, out r)) return false;
                    break;
                default:
                {
                    if (!TryMultiply(a, _leftFactor, out var x) || !TryMultiply(b, _rightFactor, out var y)) return false;
                    if (op == '%')
                    {
                        if (y == 0) { _byZero = true; return false; }
                        r = x % y;
                    }
                    else if (!TryAdd(x, op == '+' ? y : -y, out r)) return false;
                    break;
                }
            }
            return r > -_limit && r < _limit;
        }

        public readonly RowErrorReason Reason => _byZero ? RowErrorReason.DivisionByZero : RowErrorReason.Overflow;

        public readonly string Describe(Int128 a, Int128 b) =>
            $"{ValueText.Decimal(a, left.Scale)} {op} {ValueText.Decimal(b, right.Scale)}" + (_byZero ? "" : $" overflows {result}");
    }

    internal struct Negate : IUnaryOperation<Int128, Int128>
    {
        public bool Apply(Int128 v, out Int128 r) { r = -v; return true; }
        public readonly RowErrorReason Reason => RowErrorReason.Overflow;
        public readonly string Describe(Int128 v) => "";
    }
}
