using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using Xunit;
using static DataPlane.Iceberg.Tests.Maintenance.MaintenanceTable;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// Compaction: small files bin-packed per partition near the target size with every row kept, row-level deletes applied
/// and dropped, and the spec's validation against writers committing meanwhile: appends and equality deletes are kept, a
/// position delete or a removal of a file being rewritten refuses the commit, which is planned again or given up cleanly.
/// </summary>
public sealed class RewriteDataFilesTests : IAsyncLifetime
{
    private MaintenanceTable _t = null!;

    public async Task InitializeAsync() => _t = await CreateAsync(partitioned: true);

    public Task DisposeAsync()
    {
        _t.Dispose();
        return Task.CompletedTask;
    }

    private async Task<List<long>> AppendManyAsync(int commits, int rows = 50)
    {
        for (int i = 0; i < commits; i++)
            await _t.AppendAsync(Range(i * rows, rows), partitions: 2);
        return [.. Range(0, commits * rows)];
    }

    private async Task<List<FileScanTask>> TasksAsync() => [.. await _t.Table.NewScan().PlanFilesAsync()];

    /// <summary>A second writer of the same table, as another process would be.</summary>
    private async Task<Iceberg.Operations.Table> OtherWriterAsync() => await Iceberg.Operations.Table.LoadAsync(_t.Store, new FileTableCommitter(_t.Store, "db/events"));

    [Fact]
    public async Task Small_files_are_bin_packed_per_partition_near_the_target_and_every_row_stays()
    {
        var expected = await AppendManyAsync(20);
        var before = _t.Table.Metadata.CurrentSnapshotId!.Value;
        Assert.Equal(40, (await TasksAsync()).Count);

        var result = await new RewriteDataFiles(_t.Table).RunAsync();
        Assert.Equal(2, result.GroupsCommitted);
        Assert.Equal(40, result.FilesRewritten);
        var tasks = await TasksAsync();
        Assert.Equal(2, tasks.Count); // one file per partition: far below 128 MiB each
        Assert.Equal(2, tasks.Select(t => t.File.Partition).Distinct().Count());
        Assert.Equal(expected, await _t.IdsAsync());
        Assert.Equal("replace", _t.Table.Metadata.CurrentSnapshot!.Operation);
        Assert.Equal(expected, await _t.IdsAsync(before)); // time travel to before the compaction

        // A second run finds nothing to do.
        Assert.Equal(0, (await new RewriteDataFiles(_t.Table).RunAsync()).Groups);
    }

    [Fact]
    public async Task The_file_count_is_near_total_size_over_target()
    {
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.parquet.compression-codec"] = "uncompressed" });
        var expected = await AppendManyAsync(30, rows: 2000);
        var total = (await TasksAsync()).Where(t => t.File.Partition[0] is 0).Sum(t => t.File.FileSizeInBytes);
        var target = total / 4;

        var result = await new RewriteDataFiles(_t.Table).RunAsync(new RewriteDataFiles.Options { TargetFileSizeBytes = target, MaxGroupBytes = long.MaxValue });
        Assert.Empty(result.Failures);
        var partition0 = (await TasksAsync()).Where(t => t.File.Partition[0] is 0).ToList();
        Assert.True(partition0.Count is >= 3 and <= 6, $"{partition0.Count} files of {string.Join(", ", partition0.Select(t => t.File.FileSizeInBytes))} bytes for a target of {target} from {total}");
        Assert.Equal(expected, await _t.IdsAsync());
    }

    [Fact]
    public async Task Row_level_deletes_are_applied_and_the_delete_files_dropped()
    {
        var expected = await AppendManyAsync(6);
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 10L));
        var part0 = _t.Table.Spec.Partition(_t.Table.Schema, id => id == 2 ? 0 : null);
        await _t.Table.AddDeleteFilesAsync([await _t.EqualityDeletesAsync(part0, 100, 102)]);
        expected = expected.Where(i => i >= 10 && i != 100 && i != 102).ToList();
        Assert.Contains(await TasksAsync(), t => t.DeleteFiles.Count > 0);
        Assert.Equal(expected, await _t.IdsAsync());

        var result = await new RewriteDataFiles(_t.Table).RunAsync(new RewriteDataFiles.Options { MinInputFiles = 100 });
        Assert.Equal(3, result.DeleteFilesRemoved); // a position delete file per partition and the equality deletes
        var tasks = await TasksAsync();
        Assert.All(tasks, t => Assert.Empty(t.DeleteFiles));
        Assert.Equal(2, tasks.Count);
        Assert.Equal(expected, await _t.IdsAsync());
        Assert.Equal("0", _t.Table.Metadata.CurrentSnapshot!.Summary["total-delete-files"]);
        Assert.Equal(expected.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), _t.Table.Metadata.CurrentSnapshot!.Summary["total-records"]);
    }

    [Fact]
    public async Task Appends_and_equality_deletes_committed_during_the_rewrite_are_kept()
    {
        var expected = await AppendManyAsync(10);
        var other = await OtherWriterAsync();
        var part0 = _t.Table.Spec.Partition(_t.Table.Schema, id => id == 2 ? 0 : null);
        var meanwhile = new Meanwhile(async () =>
        {
            await other.RefreshAsync();
            var files = await _t.WriteAsync(Range(10_000, 20), partitions: 2);
            await other.AppendAsync(files);
            await other.AddDeleteFilesAsync([await _t.EqualityDeletesAsync(part0, 0, 2, 4)]);
        });

        var result = await new RewriteDataFiles(_t.Table).RunAsync(progress: meanwhile);
        Assert.Equal(2, result.GroupsCommitted);
        Assert.Empty(result.Failures);
        Assert.Equal(expected.Concat(Range(10_000, 20)).Where(i => i is not (0 or 2 or 4)).Order(), await _t.IdsAsync());
    }

    [Fact]
    public async Task A_position_delete_committed_during_the_rewrite_makes_it_plan_again_and_the_row_stays_deleted()
    {
        var expected = await AppendManyAsync(10);
        var other = await OtherWriterAsync();
        await other.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        var meanwhile = new Meanwhile(async () =>
        {
            await other.RefreshAsync();
            await other.DeleteWhereAsync(Expression.Equal("id", 7L));
        });

        var result = await new RewriteDataFiles(_t.Table).RunAsync(progress: meanwhile);
        Assert.Empty(result.Failures);
        Assert.Equal(2, result.GroupsCommitted);
        Assert.Equal(expected.Where(i => i != 7), await _t.IdsAsync());
        Assert.Equal(2, (await TasksAsync()).Count);
    }

    [Fact]
    public async Task A_merge_on_read_delete_planned_before_a_compaction_and_committed_after_it_is_refused_and_deletes_once_planned_again()
    {
        var expected = await AppendManyAsync(10);
        var other = await OtherWriterAsync();
        await other.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await _t.Table.RefreshAsync();
        Assert.Equal(2, (await new RewriteDataFiles(_t.Table).RunAsync()).GroupsCommitted);

        // The other writer's metadata predates the compaction: its position deletes would name files no longer live, and
        // delete nothing.
        var refused = await Assert.ThrowsAsync<CommitFailedException>(() => other.DeleteWhereAsync(Expression.Equal("id", 7L)));
        Assert.Contains("removed by a concurrent commit", refused.Message, StringComparison.Ordinal);
        await _t.Table.RefreshAsync();
        Assert.Equal(expected, await _t.IdsAsync());

        await other.RefreshAsync();
        await other.DeleteWhereAsync(Expression.Equal("id", 7L));
        await _t.Table.RefreshAsync();
        Assert.Equal(expected.Where(i => i != 7), await _t.IdsAsync());
    }

    [Fact]
    public async Task A_copy_on_write_delete_planned_before_another_writers_delete_of_the_same_file_is_refused_so_that_row_stays_deleted()
    {
        var expected = await AppendManyAsync(1, rows: 20);
        var other = await OtherWriterAsync();
        await other.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await other.DeleteWhereAsync(Expression.Equal("id", 6L)); // position deletes against the file the next delete rewrites

        // _t's metadata predates that delete (and the property): its copy of the file would hold row 6 again.
        var refused = await Assert.ThrowsAsync<CommitFailedException>(() => _t.Table.DeleteWhereAsync(Expression.Equal("id", 8L)));
        Assert.Contains("committed meanwhile", refused.Message, StringComparison.Ordinal);
        await _t.Table.RefreshAsync();
        Assert.Equal(expected.Where(i => i != 6), await _t.IdsAsync());

        await _t.Table.DeleteWhereAsync(Expression.Equal("id", 8L));
        Assert.Equal(expected.Where(i => i is not (6 or 8)), await _t.IdsAsync());
    }

    [Fact]
    public async Task Given_up_after_a_conflict_the_table_is_as_the_other_writer_left_it_and_no_new_file_remains()
    {
        var expected = await AppendManyAsync(10);
        var other = await OtherWriterAsync();
        var meanwhile = new Meanwhile(async () =>
        {
            await other.RefreshAsync();
            await other.DeleteWhereAsync(Expression.Equal("id", 8L)); // copy-on-write: a file being rewritten goes
        });
        var dataBefore = _t.Files().Where(f => f.Contains("/data/", StringComparison.Ordinal)).ToHashSet();

        var result = await new RewriteDataFiles(_t.Table).RunAsync(new RewriteDataFiles.Options { MaxAttempts = 1 }, meanwhile);
        Assert.Single(result.Failures);
        Assert.Contains("removed by a concurrent commit", result.Failures[0], StringComparison.Ordinal);
        await _t.Table.RefreshAsync();
        Assert.Equal(expected.Where(i => i != 8), await _t.IdsAsync());
        // Whatever the refused group wrote is gone; the other writer's rewritten file is the only new one in its partition.
        var live = (await TasksAsync()).Select(t => _t.Table.KeyOf(t.File.FilePath)).ToHashSet();
        var added = _t.Files().Where(f => f.Contains("/data/", StringComparison.Ordinal) && !dataBefore.Contains(f)).ToList();
        Assert.All(added, f => Assert.Contains(f, live));
    }

    [Fact]
    public async Task A_dry_run_names_the_groups_and_writes_nothing()
    {
        await AppendManyAsync(6);
        var files = _t.Files();
        var result = await new RewriteDataFiles(_t.Table).RunAsync(new RewriteDataFiles.Options { DryRun = true });
        Assert.Equal(2, result.Groups);
        Assert.Equal(12, result.FilesRewritten);
        Assert.Equal(files, _t.Files());
    }
}
