namespace DataPlane.Iceberg.Partitioning;

public enum TransformKind
{
    Identity,
    Bucket,
    Truncate,
    Year,
    Month,
    Day,
    Hour,
    Void,
    /// <summary>A transform this library does not know: kept when read, ignored when filtering, refused for writes.</summary>
    Unknown,
}
