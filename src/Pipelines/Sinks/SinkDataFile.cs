using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Pipelines.Sinks;

/// <summary>A data file written for a commit, with the partition its rows belong to.</summary>
internal sealed record SinkDataFile(WrittenDataFile File, PartitionData Partition);
