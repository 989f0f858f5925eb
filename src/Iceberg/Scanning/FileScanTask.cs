using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;

namespace DataPlane.Iceberg.Scanning;

/// <summary>A data file to read for a scan, with the partition spec it was written under, the schema to project to and
/// the delete files whose rows must be left out of it (<see cref="ScanTaskReader"/> applies them).</summary>
public sealed record FileScanTask(DataFile File, PartitionSpec Spec, Schema ProjectedSchema, long DataSequenceNumber)
{
    /// <summary>Position and equality delete files that apply to this data file under the spec's sequence number rules.</summary>
    public IReadOnlyList<DataFile> DeleteFiles { get; init; } = [];

    /// <summary>The manifest that lists the data file (a rewrite knows from it which manifests its commit changes).</summary>
    public string? ManifestPath { get; init; }
}
