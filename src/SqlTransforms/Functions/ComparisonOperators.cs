using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// = &lt;&gt; &lt; &lt;= &gt; &gt;= on any two values of a common type (a string literal takes the other side's type, so
/// <c>ts &gt; '2024-01-01'</c> compares timestamps). Strings compare by code point, floating point puts NaN above
/// everything and equal to itself (DuckDB's order).
/// </summary>
internal static class ComparisonOperators
{
    public static readonly string[] Operators = ["=", "<>", "<", "<=", ">", ">="];

    public static void Register(FunctionRegistry r)
    {
        foreach (var op in Operators)
        {
            string name = op;
            r.Add(new ScalarFunction(name, "operators", "comparison", resolver: args => Resolve(name, args),
                signatures: $"{name}(T, T) for any T but lists, structs and maps"));
        }
    }

    private static FunctionBinding? Resolve(string op, IReadOnlyList<ArgumentInfo> args)
    {
        if (args.Count != 2) return null;
        var type = CommonType(args[0], args[1]);
        if (type is null || type.IsNested || type.Kind == SqlTypeKind.Fixed) return null;
        return new FunctionBinding([type, type], SqlType.Boolean, (k, _) => Compile(op, type, k[0], k[1]));
    }

    /// <summary>The type both sides of a comparison convert to: a string literal adopts the other side's type.</summary>
    public static SqlType? CommonType(ArgumentInfo a, ArgumentInfo b)
    {
        if (a.IsStringLiteral && b.Type.Kind is not (SqlTypeKind.Varchar or SqlTypeKind.Null) && !b.Type.IsNested) return b.Type;
        if (b.IsStringLiteral && a.Type.Kind is not (SqlTypeKind.Varchar or SqlTypeKind.Null) && !a.Type.IsNested) return a.Type;
        // DECIMALs (and integers beside one) compare exactly at the larger scale, at most 38 digits (DuckDB's: a value
        // that does not fit fails), where the common type would be DOUBLE
        if ((a.Type.Kind == SqlTypeKind.Decimal || b.Type.Kind == SqlTypeKind.Decimal) && Exact(a.Type) is { } x && Exact(b.Type) is { } y)
        {
            int scale = Math.Max(x.Scale, y.Scale);
            return SqlType.Decimal(Math.Min(SqlType.MaxDecimalPrecision, Math.Max(x.Precision - x.Scale, y.Precision - y.Scale) + scale), scale);
        }
        var common = TypeCoercion.Common(a.Type, b.Type);
        return common?.Kind == SqlTypeKind.Null ? SqlType.Boolean : common;
    }

    private static SqlType? Exact(SqlType t) => t.Kind switch
    {
        SqlTypeKind.Decimal => t,
        SqlTypeKind.Integer => SqlType.Decimal(10, 0),
        SqlTypeKind.BigInt => SqlType.Decimal(19, 0),
        _ => null,
    };

    public static Kernel Compile(string op, SqlType type, Kernel l, Kernel r) => op switch
    {
        "=" => Compile<TestEqual>(type, l, r),
        "<>" => Compile<TestNotEqual>(type, l, r),
        "<" => Compile<TestLess>(type, l, r),
        "<=" => Compile<TestLessOrEqual>(type, l, r),
        ">" => Compile<TestGreater>(type, l, r),
        ">=" => Compile<TestGreaterOrEqual>(type, l, r),
        _ => throw new ArgumentException(op),
    };

    private static Kernel Compile<TTest>(SqlType type, Kernel l, Kernel r) where TTest : struct, IComparisonTest => type.Kind switch
    {
        SqlTypeKind.Boolean or SqlTypeKind.Null => new BooleanCompareKernel<TTest>(l, r),
        SqlTypeKind.Integer or SqlTypeKind.Date => new CompareKernel<int, OrderInt, TTest>(l, r),
        SqlTypeKind.BigInt or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz => new CompareKernel<long, OrderLong, TTest>(l, r),
        SqlTypeKind.Real => new CompareKernel<float, OrderFloat, TTest>(l, r),
        SqlTypeKind.Double => new CompareKernel<double, OrderDouble, TTest>(l, r),
        SqlTypeKind.Decimal => new CompareKernel<Int128, OrderInt128, TTest>(l, r),
        SqlTypeKind.Interval => new CompareKernel<IntervalValue, OrderInterval, TTest>(l, r),
        SqlTypeKind.Varchar or SqlTypeKind.Blob => new BytesCompareKernel<TTest>(l, r),
        SqlTypeKind.Uuid => new CompareKernel<UInt128, OrderUuid, TTest>(l, r),
        _ => throw new NotSupportedException($"comparing {type} values"),
    };

    /// <summary>UUIDs are stored big-endian; comparing them byte by byte is comparing the reversed integers.</summary>
    internal struct OrderUuid : IOrder<UInt128>
    {
        public static int Compare(UInt128 a, UInt128 b) =>
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(a).CompareTo(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(b));
    }
}
