using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Operations;

/// <summary>Committed table metadata and the location of the file it was read from (the catalog's metadata pointer).</summary>
public sealed record TableState(TableMetadata Metadata, string MetadataLocation);
