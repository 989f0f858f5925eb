using DataPlane.Catalog.DataFiles;
using DataPlane.Catalog.Partitioning;

namespace DataPlane.Pipelines.Sinks;

/// <summary>A data file written for a commit, with the partition its rows belong to.</summary>
internal sealed record SinkDataFile(WrittenDataFile File, PartitionData Partition);
