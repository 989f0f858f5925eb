using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>Type names as written in CAST (DuckDB's and PostgreSQL's spellings) to SQL types.</summary>
internal static class TypeNames
{
    public static readonly string[] Known =
    [
        "BOOLEAN", "BOOL", "INTEGER", "INT", "INT4", "INT32", "SMALLINT", "TINYINT", "BIGINT", "INT8", "INT64", "LONG", "REAL", "FLOAT", "FLOAT4",
        "DOUBLE", "FLOAT8", "DECIMAL", "NUMERIC", "VARCHAR", "TEXT", "STRING", "CHAR", "DATE", "TIME", "TIMESTAMP", "DATETIME", "TIMESTAMPTZ",
        "INTERVAL", "BLOB", "BYTEA", "BINARY", "VARBINARY", "UUID",
    ];

    /// <summary>The type, or null with <paramref name="problem"/> saying why not.</summary>
    public static SqlType? Resolve(TypeName name, out string? problem)
    {
        problem = null;
        SqlType? type = name.Name switch
        {
            "BOOLEAN" or "BOOL" or "LOGICAL" => SqlType.Boolean,
            "INTEGER" or "INT" or "INT4" or "INT32" or "SMALLINT" or "INT2" or "TINYINT" or "INT1" or "SIGNED" => SqlType.Integer,
            "BIGINT" or "INT8" or "INT64" or "LONG" => SqlType.BigInt,
            "REAL" or "FLOAT" or "FLOAT4" => SqlType.Real,
            "DOUBLE" or "FLOAT8" => SqlType.Double,
            "DECIMAL" or "NUMERIC" => Decimal(name, out problem),
            "VARCHAR" or "TEXT" or "STRING" or "CHAR" or "BPCHAR" => SqlType.Varchar,
            "DATE" => SqlType.Date,
            "TIME" => SqlType.Time,
            "TIMESTAMP" or "DATETIME" => SqlType.Timestamp,
            "TIMESTAMPTZ" or "TIMESTAMP WITH TIME ZONE" => SqlType.TimestampTz,
            "INTERVAL" => SqlType.Interval,
            "BLOB" or "BYTEA" or "BINARY" or "VARBINARY" => SqlType.Blob,
            "UUID" => SqlType.Uuid,
            _ => null,
        };
        if (type is null)
        {
            problem ??= $"unknown type {name.Name}" + Diagnostics.NearestNames.Suggest(name.Name, Known) + $" (types: {string.Join(", ", Known)})";
            return null;
        }
        for (int i = 0; i < name.ListDepth; i++) type = SqlType.List(type);
        return type;
    }

    private static SqlType? Decimal(TypeName name, out string? problem)
    {
        problem = null;
        int precision = name.Parameters.Count > 0 ? name.Parameters[0] : 18;
        int scale = name.Parameters.Count > 1 ? name.Parameters[1] : name.Parameters.Count == 1 ? 0 : 3;
        if (name.Parameters.Count > 2 || precision is < 1 or > SqlType.MaxDecimalPrecision || scale > precision)
        {
            problem = $"DECIMAL({string.Join(",", name.Parameters)}) is not a type: precision is 1 to {SqlType.MaxDecimalPrecision} and scale 0 to the precision";
            return null;
        }
        return SqlType.Decimal(precision, scale);
    }
}
