using DataPlane.Catalog.Metadata;

namespace DataPlane.Catalog.Operations;

/// <summary>Committed table metadata and the location of the file it was read from (the catalog's metadata pointer).</summary>
public sealed record TableState(TableMetadata Metadata, string MetadataLocation);
