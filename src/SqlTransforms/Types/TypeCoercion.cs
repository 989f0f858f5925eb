namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// Which types convert to which without a CAST, and the common type of several (for CASE, COALESCE, IN, UNION ALL
/// and comparisons), following DuckDB: INTEGER -> BIGINT -> DECIMAL -> DOUBLE, FLOAT -> DOUBLE, DATE -> TIMESTAMP
/// -> TIMESTAMP WITH TIME ZONE, NULL -> anything.
/// </summary>
internal static class TypeCoercion
{
    public static bool CanImplicitlyCast(SqlType from, SqlType to)
    {
        if (from == to || from.Kind == SqlTypeKind.Null) return true;
        return (from.Kind, to.Kind) switch
        {
            (SqlTypeKind.Integer, SqlTypeKind.BigInt or SqlTypeKind.Real or SqlTypeKind.Double) => true,
            (SqlTypeKind.Integer, SqlTypeKind.Decimal) => to.Precision - to.Scale >= 10,
            (SqlTypeKind.BigInt, SqlTypeKind.Real or SqlTypeKind.Double) => true,
            (SqlTypeKind.BigInt, SqlTypeKind.Decimal) => to.Precision - to.Scale >= 19,
            (SqlTypeKind.Real, SqlTypeKind.Double) => true,
            (SqlTypeKind.Decimal, SqlTypeKind.Double or SqlTypeKind.Real) => true,
            (SqlTypeKind.Decimal, SqlTypeKind.Decimal) => to.Scale >= from.Scale && to.Precision - to.Scale >= from.Precision - from.Scale,
            (SqlTypeKind.Date, SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz) => true,
            (SqlTypeKind.Timestamp, SqlTypeKind.TimestampTz) => true,
            (SqlTypeKind.List, SqlTypeKind.List) => CanImplicitlyCast(from.Element!, to.Element!),
            _ => false,
        };
    }

    /// <summary>The type every one of <paramref name="types"/> converts to implicitly, or null when there is none.</summary>
    public static SqlType? Common(IEnumerable<SqlType> types)
    {
        SqlType? result = null;
        foreach (var t in types)
        {
            result = result is null ? t : Common(result, t);
            if (result is null) return null;
        }
        return result;
    }

    public static SqlType? Common(SqlType a, SqlType b)
    {
        if (a == b) return a;
        if (a.Kind == SqlTypeKind.Null) return b;
        if (b.Kind == SqlTypeKind.Null) return a;
        if (a.Kind == SqlTypeKind.Decimal && b.Kind == SqlTypeKind.Decimal)
        {
            int scale = Math.Max(a.Scale, b.Scale);
            int whole = Math.Max(a.Precision - a.Scale, b.Precision - b.Scale);
            return whole + scale <= SqlType.MaxDecimalPrecision ? SqlType.Decimal(whole + scale, scale) : SqlType.Double;
        }
        if (a.Kind == SqlTypeKind.Decimal && b.IsInteger) return Common(a, IntegerAsDecimal(b));
        if (b.Kind == SqlTypeKind.Decimal && a.IsInteger) return Common(IntegerAsDecimal(a), b);
        if (a.Kind == SqlTypeKind.List && b.Kind == SqlTypeKind.List)
            return Common(a.Element!, b.Element!) is { } e ? SqlType.List(e) : null;
        if (CanImplicitlyCast(a, b)) return b;
        if (CanImplicitlyCast(b, a)) return a;
        if ((a.Kind == SqlTypeKind.Real && b.IsInteger) || (b.Kind == SqlTypeKind.Real && a.IsInteger)) return SqlType.Real;
        return null;
    }

    private static SqlType IntegerAsDecimal(SqlType t) => t.Kind == SqlTypeKind.Integer ? SqlType.Decimal(10, 0) : SqlType.Decimal(19, 0);
}
