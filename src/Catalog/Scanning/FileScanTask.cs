using DataPlane.Catalog.Manifests;
using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Schemas;

namespace DataPlane.Catalog.Scanning;

/// <summary>A data file to read for a scan, with the partition spec it was written under and the schema to project to.</summary>
public sealed record FileScanTask(DataFile File, PartitionSpec Spec, Schema ProjectedSchema, long DataSequenceNumber);
