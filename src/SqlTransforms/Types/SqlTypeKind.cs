namespace DataPlane.SqlTransforms.Types;

/// <summary>The SQL types of the engine, named as DuckDB names them; each has one Arrow representation (<see cref="ArrowTypes"/>).</summary>
internal enum SqlTypeKind
{
    /// <summary>The type of a bare NULL literal, which takes whatever type its context needs.</summary>
    Null,
    Boolean,
    Integer,
    BigInt,
    Real,
    Double,
    Decimal,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Varchar,
    Blob,
    Uuid,
    List,
    Struct,
    Map,
    /// <summary>Iceberg's fixed[L]: L bytes a value. Read from a source and written out as it is; no operations yet but IS NULL.</summary>
    Fixed,
}
