namespace DataPlane.Iceberg.Types;

/// <summary>The Iceberg format v2 types (table spec, "Schemas and Data Types").</summary>
public enum TypeId
{
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Decimal,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    String,
    Uuid,
    Fixed,
    Binary,
    Struct,
    List,
    Map,
}
