using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Types;
using Xunit;
using static DataPlane.Iceberg.Tests.Maintenance.MaintenanceTable;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// Manifest rewrite: a pipeline's one-manifest-per-commit history is merged into few manifests clustered by partition,
/// with the same files, rows and sequence numbers, so a partition filter rules manifests out without reading them.
/// </summary>
public sealed class RewriteManifestsTests : IAsyncLifetime
{
    private MaintenanceTable _t = null!;

    public async Task InitializeAsync() => _t = await CreateAsync(partitioned: true);

    public Task DisposeAsync()
    {
        _t.Dispose();
        return Task.CompletedTask;
    }

    private async Task<IReadOnlyList<ManifestFile>> ManifestsAsync()
    {
        using var stream = await _t.Table.IO.ReadAsync(_t.Table.Metadata.CurrentSnapshot!.ManifestList!, default);
        return ManifestList.Read(stream).ToList();
    }

    [Fact]
    public async Task Small_manifests_are_merged_into_few_clustered_by_partition_with_the_same_files()
    {
        for (int i = 0; i < 24; i++)
            await _t.AppendAsync(Range(i * 40, 40), partitions: 4);
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 3L));
        var filesBefore = (await _t.Table.NewScan().PlanFilesAsync()).Select(t => (t.File.FilePath, t.DataSequenceNumber, Deletes: t.DeleteFiles.Count)).Order().ToList();
        var idsBefore = await _t.IdsAsync();
        Assert.Equal(24, (await ManifestsAsync()).Count(m => m.Content == ManifestContent.Data));

        // Small enough a target that the merged entries need several manifests.
        var sizes = (await ManifestsAsync()).Where(m => m.Content == ManifestContent.Data).Sum(m => m.ManifestLength);
        var result = await new RewriteManifests(_t.Table).RunAsync(new RewriteManifests.Options { TargetManifestSizeBytes = sizes / 4 });
        Assert.Equal(24, result.ManifestsReplaced);
        var data = (await ManifestsAsync()).Where(m => m.Content == ManifestContent.Data).ToList();
        Assert.InRange(data.Count, 3, 6);
        Assert.Equal("replace", _t.Table.Metadata.CurrentSnapshot!.Operation);

        // Same files with the same data sequence numbers and deletes, same rows.
        var filesAfter = (await _t.Table.NewScan().PlanFilesAsync()).Select(t => (t.File.FilePath, t.DataSequenceNumber, Deletes: t.DeleteFiles.Count)).Order().ToList();
        Assert.Equal(filesBefore, filesAfter);
        Assert.Equal(idsBefore, await _t.IdsAsync());

        // Clustered: the manifests' partition ranges do not overlap, so a partition filter reads only the ones holding it.
        var ranges = data.Select(m => (Low: Conversions.FromBytes(PrimitiveType.Int, m.Partitions![0].LowerBound!), High: Conversions.FromBytes(PrimitiveType.Int, m.Partitions[0].UpperBound!)))
            .OrderBy(r => (int)r.Low!).ThenBy(r => (int)r.High!).ToList();
        for (int i = 1; i < ranges.Count; i++)
            Assert.True((int)ranges[i - 1].High! <= (int)ranges[i].Low!, $"manifest ranges overlap: {string.Join(", ", ranges)}");
        Assert.True(data.Count(m => (int)Conversions.FromBytes(PrimitiveType.Int, m.Partitions![0].LowerBound!)! <= 1
            && (int)Conversions.FromBytes(PrimitiveType.Int, m.Partitions[0].UpperBound!)! >= 1) < data.Count);

        // The next append is fast again, and a second rewrite merges only what is small and new.
        await _t.AppendAsync(Range(5000, 8), partitions: 4);
        Assert.Equal(idsBefore.Concat(Range(5000, 8)).Order(), await _t.IdsAsync());
    }

    [Fact]
    public async Task Nothing_to_merge_commits_nothing()
    {
        await _t.AppendAsync(Range(0, 10), partitions: 2);
        var metadata = _t.Table.State.MetadataLocation;
        var result = await new RewriteManifests(_t.Table).RunAsync();
        Assert.Equal(0, result.ManifestsWritten);
        Assert.Null(result.SnapshotId);
        Assert.Equal(metadata, _t.Table.State.MetadataLocation);
    }
}
