using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Pipelines.Sinks;

/// <summary>A data file written for a commit, with the partition its rows belong to; or, for an updating aggregate's
/// sink, an equality delete file of the keys whose older rows the commit replaces (<paramref name="EqualityDeletes"/>).</summary>
internal sealed record SinkDataFile(WrittenDataFile File, PartitionData Partition, bool EqualityDeletes = false);
