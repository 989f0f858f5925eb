using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
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
    public async Task Against_a_writer_that_wins_every_race_for_a_while_the_rewrite_is_rebased_not_redone_and_no_row_is_lost()
    {
        // Short waits between attempts (Iceberg's commit.retry.*-wait-ms) keep the test quick; the attempts bound it, not a clock.
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["commit.retry.min-wait-ms"] = "1", ["commit.retry.max-wait-ms"] = "10" });
        for (int i = 0; i < 30; i++)
            await _t.AppendAsync(Range(i * 10, 10), partitions: 3);
        var acknowledged = Range(0, 300).ToList();

        // Another writer commits right before each of the rewrite's first 15 attempts, which all lose the race (of 20 retries).
        var writer = await Iceberg.Operations.Table.LoadAsync(_t.Store, new FileTableCommitter(_t.Store, "db/events"));
        var attempts = new List<string>();
        var raced = new RacedCommitter(new FileTableCommitter(_t.Store, "db/events"), async updated =>
        {
            attempts.Add(updated.CurrentSnapshot!.ManifestList!);
            if (attempts.Count > 15) return;
            long id = 100_000 + attempts.Count;
            await writer.AppendAsync(await _t.WriteAsync([id]));
            acknowledged.Add(id);
        });
        var maintainer = await Iceberg.Operations.Table.LoadAsync(_t.Store, raced);

        var result = await new RewriteManifests(maintainer).RunAsync();

        Assert.Equal(16, attempts.Count);
        Assert.True(result.ManifestsReplaced >= 30, $"{result.ManifestsReplaced} manifests replaced");
        await _t.Table.RefreshAsync();
        Assert.Equal(attempts[^1], _t.Table.Metadata.Snapshot(result.SnapshotId!.Value)!.ManifestList);
        Assert.Contains(_t.Table.Metadata.Ancestors(_t.Table.Metadata.CurrentSnapshotId!.Value), s => s.SnapshotId == result.SnapshotId);
        Assert.Equal(acknowledged.Order(), await _t.IdsAsync());
        // Each attempt after the first lists the manifests the first one merged, and the other writer's new ones as they are.
        var merged = new List<string>();
        foreach (var list in attempts)
        {
            using var stream = await _t.Table.IO.ReadAsync(list, default);
            merged.Add(string.Join(",", ManifestList.Read(stream).Where(m => m.AddedSnapshotId == result.SnapshotId).Select(m => m.ManifestPath).Order()));
        }
        Assert.Single(merged.Distinct());
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
