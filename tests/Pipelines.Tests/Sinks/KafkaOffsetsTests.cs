using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>Where a sink's commits, each naming some partitions (workers of a group), leave each partition: offsets and state.</summary>
public sealed class KafkaOffsetsTests
{
    private static Dictionary<string, string> Commit(string offsets, string? checkpoint) => new()
    {
        ["dataplane.kafka.topic"] = "orders",
        ["dataplane.kafka.partitions"] = "4",
        ["dataplane.kafka.offsets"] = offsets,
        ["dataplane.checkpoint"] = checkpoint!,
    };

    [Fact]
    public void Each_partition_resumes_from_the_newest_commit_naming_it_with_that_commits_checkpoint()
    {
        string a = "s3://w/t/checkpoints/sink/a.partitions/", b = "s3://w/t/checkpoints/sink/b.partitions/", c = "s3://w/t/checkpoints/sink/c.partitions/";
        var newestFirst = new[]
        {
            Commit("1:50-80,3:10-20", b),        // worker B's newest
            Commit("0:0-40,2:5-9", a),           // worker A's
            Commit("0:0-0,1:0-50,2:0-5,3:0-10", c), // one worker, before B joined: older than the others for every partition
        };
        newestFirst[1].Remove("dataplane.checkpoint"); // a commit of a statement without state names none
        var merged = KafkaOffsets.Merge(newestFirst)!;
        Assert.Equal(new Dictionary<int, (long, long)> { [0] = (0, 40), [1] = (50, 80), [2] = (5, 9), [3] = (10, 20) }, merged.Partitions);
        Assert.Equal(new Dictionary<int, string> { [1] = b, [3] = b }, merged.Checkpoints);
    }

    [Fact]
    public void A_commits_state_per_partition_is_a_folder_of_a_checkpoint_folder_per_partition_told_apart_from_a_checkpoint_of_all_at_once()
    {
        var folder = PartitionCheckpoints.Folder("t/checkpoints/sink/00000000000000000120-abc/");
        Assert.Equal("t/checkpoints/sink/00000000000000000120-abc.partitions/", folder);
        Assert.Equal("t/checkpoints/sink/00000000000000000120-abc.partitions/partition-3/", PartitionCheckpoints.Of(folder, 3));
        Assert.True(PartitionCheckpoints.IsFolder("s3://w/" + folder));
        Assert.False(PartitionCheckpoints.IsFolder("s3://w/t/checkpoints/sink/00000000000000000120-abc/"));
    }
}
