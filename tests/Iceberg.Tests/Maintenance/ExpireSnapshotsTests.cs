using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.TestServices;
using Xunit;
using static DataPlane.Iceberg.Tests.Maintenance.MaintenanceTable;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// Snapshot expiry: the spec's retention policy (age, minimum count, branches, tags, ref ages), deletion of exactly the
/// files only expired snapshots referenced (data, position and equality deletes, manifests, manifest lists, old metadata
/// files), and the markers that keep a pipeline's last commit findable once its snapshot is gone.
/// </summary>
public sealed class ExpireSnapshotsTests : IAsyncLifetime
{
    private MaintenanceTable _t = null!;

    public async Task InitializeAsync() => _t = await CreateAsync();

    public Task DisposeAsync()
    {
        _t.Dispose();
        return Task.CompletedTask;
    }

    private Task<ExpireSnapshots.Result> ExpireAsync(double daysFromNow = 6, ExpireSnapshots.Options? options = null) =>
        new ExpireSnapshots(_t.Table, new ManualTime(DateTimeOffset.UtcNow.AddDays(daysFromNow))).RunAsync(options);

    [Fact]
    public async Task Expires_by_age_down_to_the_minimum_count_and_deletes_only_files_no_kept_snapshot_reads()
    {
        var a = await _t.AppendAsync(Range(0, 10));
        var aFiles = await _t.LiveFilesAsync(a.SnapshotId);
        await _t.AppendAsync(Range(10, 10));
        var delete = await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 5L)); // copy-on-write: a's file is replaced
        var c = await _t.AppendAsync(Range(20, 10));
        var expiredLists = _t.Table.Metadata.Snapshots.Where(s => s.SnapshotId != c.SnapshotId).Select(s => s.ManifestList!).ToList();
        Assert.Equal(4, _t.Table.Metadata.Snapshots.Count);

        // Younger than 5 days: nothing goes.
        var young = await ExpireAsync(daysFromNow: 1);
        Assert.Empty(young.ExpiredSnapshots);
        Assert.Equal(4, _t.Table.Metadata.Snapshots.Count);

        // Keep the last two of main.
        var two = await ExpireAsync(options: new ExpireSnapshots.Options { RetainLast = 2 });
        Assert.Equal(2, two.ExpiredSnapshots.Count);
        Assert.Equal(new[] { delete.SnapshotId, c.SnapshotId }.Order(), _t.Table.Metadata.Snapshots.Select(s => s.SnapshotId).Order());
        // a's first file was replaced by the delete: only the two expired snapshots read it.
        Assert.All(aFiles, f => Assert.False(_t.Exists(f), $"{f} was only read by expired snapshots"));
        Assert.Equal(Range(5, 25), await _t.IdsAsync());
        Assert.Equal(Range(5, 15), await _t.IdsAsync(delete.SnapshotId));

        // Past the age with the default minimum of one: only the current snapshot stays, and every file it reads.
        var one = await ExpireAsync();
        Assert.Equal([delete.SnapshotId], one.ExpiredSnapshots);
        Assert.Equal(c.SnapshotId, Assert.Single(_t.Table.Metadata.Snapshots).SnapshotId);
        Assert.All(expiredLists, l => Assert.False(_t.Exists(l), $"manifest list {l} of an expired snapshot is still there"));
        Assert.True(_t.Exists(_t.Table.Metadata.CurrentSnapshot!.ManifestList!));
        Assert.All(await _t.LiveFilesAsync(c.SnapshotId), f => Assert.True(_t.Exists(f), f));
        Assert.Equal(Range(5, 25), await _t.IdsAsync());
        Assert.Equal(c.SnapshotId, Assert.Single(_t.Table.Metadata.SnapshotLog).SnapshotId);
    }

    [Fact]
    public async Task Past_the_count_ceiling_young_snapshots_expire_but_refs_the_minimum_and_a_second_writers_commit_stay()
    {
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { [MaintenanceSettings.MaxSnapshotsKey] = "5" });
        var first = await _t.AppendAsync(Range(0, 10));
        await _t.Table.CreateTagAsync("v1");
        var snapshots = new List<Snapshot> { first };
        for (int i = 1; i < 12; i++)
            snapshots.Add(await _t.AppendAsync(Range(i * 10, 10)));

        // A second writer commits right before expiry's first attempt, which loses and plans again with its snapshot.
        var writer = await Iceberg.Operations.Table.LoadAsync(_t.Store, new FileTableCommitter(_t.Store, "db/events"));
        Snapshot? other = null;
        var raced = new RacedCommitter(new FileTableCommitter(_t.Store, "db/events"), async _ => other ??= await writer.AppendAsync(await _t.WriteAsync(Range(500, 3))));
        var maintainer = await Iceberg.Operations.Table.LoadAsync(_t.Store, raced);

        // Minutes old, far younger than the 5-day age: only the ceiling expires them.
        var result = await new ExpireSnapshots(maintainer, new ManualTime(DateTimeOffset.UtcNow.AddDays(0.001))).RunAsync();
        await _t.Table.RefreshAsync();
        var kept = _t.Table.Metadata.Snapshots.Select(s => s.SnapshotId).ToHashSet();
        Assert.Equal(snapshots[^4..].Select(s => s.SnapshotId).Append(other!.SnapshotId).Append(first.SnapshotId).Order(), kept.Order());
        Assert.Equal(snapshots[1..^4].Select(s => s.SnapshotId).Order(), result.ExpiredSnapshots);
        Assert.Equal(Range(0, 120).Concat(Range(500, 3)), await _t.IdsAsync());
        Assert.Equal(Range(0, 10), await _t.IdsAsync(reference: "v1"));

        // The minimum count wins over the ceiling.
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { [MaintenanceSettings.MinSnapshotsToKeepKey] = "8" });
        for (int i = 0; i < 6; i++)
            await _t.AppendAsync(Range(1000 + i * 10, 10));
        await new ExpireSnapshots(_t.Table, new ManualTime(DateTimeOffset.UtcNow.AddDays(0.001))).RunAsync();
        Assert.Equal(9, _t.Table.Metadata.Snapshots.Count); // the newest 8 of main and the tag's
    }

    [Fact]
    public async Task Branches_and_tags_keep_their_snapshots_and_files_until_they_are_removed_or_too_old()
    {
        var s1 = await _t.AppendAsync(Range(0, 10));
        var s1Files = await _t.LiveFilesAsync(s1.SnapshotId);
        await _t.Table.CreateTagAsync("v1");
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 10L)); // every row of s1: its file leaves main
        await _t.Table.CreateBranchAsync("wap");
        var w = await _t.AppendAsync(Range(100, 5), branch: "wap");
        var wFiles = (await _t.LiveFilesAsync(w.SnapshotId)).Except(s1Files).ToList();
        var s3 = await _t.AppendAsync(Range(10, 10));

        var result = await ExpireAsync();
        Assert.Empty(result.RemovedRefs);
        Assert.Equal(Range(0, 10), await _t.IdsAsync(reference: "v1"));
        Assert.Equal(Range(100, 5), await _t.IdsAsync(reference: "wap"));
        Assert.Equal(Range(10, 10), await _t.IdsAsync());
        Assert.All(s1Files.Concat(wFiles), f => Assert.True(_t.Exists(f), f));
        Assert.Equal(3, _t.Table.Metadata.Snapshots.Count); // s1 (tag), w (branch), s3 (main)

        // Time travel by timestamp to a retained snapshot still reads it.
        Assert.Equal(s3.SnapshotId, _t.Table.Metadata.SnapshotAsOf(s3.TimestampMs)!.SnapshotId);

        // A tag removed: its snapshot expires and the file only it read goes.
        await _t.Table.RemoveRefAsync("v1");
        await ExpireAsync();
        Assert.All(s1Files, f => Assert.False(_t.Exists(f), f));
        Assert.True(_t.Table.Metadata.Refs.ContainsKey("wap"));

        // A branch older than history.expire.max-ref-age-ms is removed, then expired with what only it read; main never is.
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { [MaintenanceSettings.MaxRefAgeMsKey] = "86400000" });
        var old = await ExpireAsync();
        Assert.Equal(["wap"], old.RemovedRefs);
        Assert.All(wFiles, f => Assert.False(_t.Exists(f), f));
        Assert.Equal(s3.SnapshotId, _t.Table.Metadata.CurrentSnapshotId);
        Assert.Equal(Range(10, 10), await _t.IdsAsync());
    }

    [Fact]
    public async Task Position_and_equality_deletes_stay_while_a_kept_snapshot_applies_them()
    {
        using var partitioned = await CreateAsync(partitioned: true);
        var t = partitioned;
        await t.AppendAsync(Range(0, 40), partitions: 2);
        await t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await t.Table.DeleteWhereAsync(Expression.LessThan("id", 4L)); // position deletes
        var part0 = t.Table.Spec.Partition(t.Table.Schema, id => id == 2 ? 0 : null);
        await t.Table.AddDeleteFilesAsync([await t.EqualityDeletesAsync(part0, 10, 12)]);
        var current = await t.AppendAsync(Range(40, 4), partitions: 2);
        var deleteFiles = (await t.Table.NewScan().PlanFilesAsync()).SelectMany(x => x.DeleteFiles).Select(d => d.FilePath).Distinct().ToList();
        Assert.Equal(3, deleteFiles.Count); // a position delete file per partition, one equality delete file

        var result = await new ExpireSnapshots(t.Table, new ManualTime(DateTimeOffset.UtcNow.AddDays(6))).RunAsync();
        Assert.Equal(3, result.ExpiredSnapshots.Count);
        Assert.Equal(0, result.DeleteFiles);
        Assert.All(deleteFiles, f => Assert.True(t.Exists(f), f));
        Assert.Equal(Range(4, 40).Where(i => i is not (10 or 12)), await t.IdsAsync());
        Assert.Equal(current.SnapshotId, Assert.Single(t.Table.Metadata.Snapshots).SnapshotId);
    }

    [Fact]
    public async Task Metadata_files_beyond_previous_versions_max_are_deleted_and_the_table_still_loads()
    {
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.metadata.previous-versions-max"] = "2" });
        for (int i = 0; i < 6; i++)
            await _t.AppendAsync(Range(i * 10, 10));
        string Unique(string f) => Path.GetFileName(f);
        var uniqueBefore = _t.Files().Where(f => f.EndsWith(".metadata.json", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('v')).ToList();
        Assert.Equal(8, uniqueBefore.Count); // create, set-properties, 6 appends

        var result = await ExpireAsync(daysFromNow: 0);
        Assert.Empty(result.ExpiredSnapshots);
        Assert.Equal(5, result.MetadataFiles);
        var kept = _t.Table.Metadata.MetadataLog.Select(e => Unique(e.MetadataFile)).Append(Unique(_t.Table.State.MetadataLocation)).Order().ToList();
        var uniqueAfter = _t.Files().Where(f => f.EndsWith(".metadata.json", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('v')).Select(Unique).Order().ToList();
        Assert.Equal(kept, uniqueAfter);
        // The file-system table's own version files (its compare-and-swap) are never touched.
        Assert.Equal(8, _t.Files().Count(f => Path.GetFileName(f).StartsWith('v') && f.EndsWith(".metadata.json", StringComparison.Ordinal)));
        var reloaded = await Iceberg.Operations.Table.LoadAsync(_t.Store, new FileTableCommitter(_t.Store, "db/events"));
        Assert.Equal(_t.Table.State.MetadataLocation, reloaded.State.MetadataLocation);
        Assert.Equal(Range(0, 60), await _t.IdsAsync());
    }

    [Fact]
    public async Task A_writers_last_commit_stays_findable_after_its_snapshot_expires_and_rollbacks_still_show()
    {
        Dictionary<string, string> Sink(long end) => new() { [CommitHistory.WriterKey] = "s1", ["dataplane.end-offset"] = end.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var x1 = await _t.AppendAsync(Range(0, 5), summary: Sink(5));
        var o1 = await _t.AppendAsync(Range(100, 5));
        await _t.AppendAsync(Range(5, 5), summary: Sink(10)); // x2, rolled back below
        await _t.Table.RollbackToAsync(o1.SnapshotId);
        var o2 = await _t.AppendAsync(Range(105, 5));
        Assert.Equal(x1.SnapshotId, CommitHistory.LastCommit(_t.Table.Metadata, "s1")!.SnapshotId);

        // Everything but the current snapshot expires: x1, o1, and the rolled-back x2.
        var result = await ExpireAsync();
        Assert.Equal(3, result.ExpiredSnapshots.Count);
        Assert.Null(_t.Table.Metadata.Snapshot(x1.SnapshotId));
        var last = CommitHistory.LastCommit(_t.Table.Metadata, "s1");
        Assert.NotNull(last);
        Assert.Equal(x1.SnapshotId, last.SnapshotId);
        Assert.Equal("5", last.Summary["dataplane.end-offset"]);

        // Expired again further on: the marker moves to the new cut and still names x1.
        await _t.AppendAsync(Range(110, 5));
        await _t.AppendAsync(Range(115, 5));
        await ExpireAsync();
        Assert.Equal(x1.SnapshotId, CommitHistory.LastCommit(_t.Table.Metadata, "s1")!.SnapshotId);
        Assert.Null(_t.Table.Metadata.Snapshot(o2.SnapshotId));
        Assert.Single(_t.Table.Metadata.Properties, p => p.Key == CommitHistory.MarkerPrefix + "s1");

        // A newer commit of the writer takes over from the marker.
        var x3 = await _t.AppendAsync(Range(10, 5), summary: Sink(15));
        Assert.Equal(x3.SnapshotId, CommitHistory.LastCommit(_t.Table.Metadata, "s1")!.SnapshotId);
        Assert.Null(CommitHistory.LastCommit(_t.Table.Metadata, "s2"));
    }

    [Fact]
    public async Task Expiry_keeps_for_each_Kafka_partition_the_newest_commit_naming_it_when_workers_commit_partition_subsets()
    {
        Dictionary<string, string> Kafka(string topic, string offsets) => new()
        {
            [CommitHistory.WriterKey] = "s1", [CommitHistory.KafkaTopicKey] = topic, [CommitHistory.KafkaPartitionCountKey] = "4", [CommitHistory.KafkaOffsetsKey] = offsets,
        };
        var k0 = await _t.AppendAsync(Range(0, 1), summary: Kafka("old", "0:0-5,1:0-5,2:0-5,3:0-5")); // a topic the writer read before
        var k1 = await _t.AppendAsync(Range(1, 1), summary: Kafka("t", "0:0-10,1:0-10,2:0-10,3:0-10"));
        var k1b = await _t.AppendAsync(Range(2, 1), summary: Kafka("t", "0:10-15")); // partition 0 again below: superseded by k2
        var k2 = await _t.AppendAsync(Range(3, 1), summary: Kafka("t", "0:15-20")); // a worker holding partition 0
        await _t.AppendAsync(Range(100, 1)); // another writer's commit between
        var k3 = await _t.AppendAsync(Range(4, 1), summary: Kafka("t", "1:10-30,2:10-30")); // a worker holding partitions 1 and 2
        await _t.AppendAsync(Range(101, 1));
        var positions = new Dictionary<int, long> { [0] = 20, [1] = 30, [2] = 30, [3] = 10 };
        Assert.Equal(positions, Positions());

        // Everything but the current snapshot expires: partition 3 is named only by k1, below two newer commits of the writer.
        var result = await ExpireAsync();
        Assert.Equal(6, result.ExpiredSnapshots.Count);
        Assert.Equal(positions, Positions());
        Assert.Equal([k3.SnapshotId, k2.SnapshotId, k1.SnapshotId], CommitHistory.History(_t.Table.Metadata, "s1").Select(c => c.SnapshotId));
        Assert.DoesNotContain(CommitHistory.AllCommits(_t.Table.Metadata, "s1"), c => c.SnapshotId == k0.SnapshotId || c.SnapshotId == k1b.SnapshotId);
        Assert.Equal(k3.SnapshotId, CommitHistory.LastCommit(_t.Table.Metadata, "s1")!.SnapshotId);

        // Expired again further on, with a newer commit of partition 1 among them: the new marker keeps what is still needed.
        var k4 = await _t.AppendAsync(Range(5, 1), summary: Kafka("t", "1:30-40"));
        await _t.AppendAsync(Range(102, 1));
        await _t.AppendAsync(Range(103, 1));
        await ExpireAsync();
        Assert.Null(_t.Table.Metadata.Snapshot(k4.SnapshotId));
        Assert.Equal(new Dictionary<int, long> { [0] = 20, [1] = 40, [2] = 30, [3] = 10 }, Positions());
        Assert.Equal([k4.SnapshotId, k3.SnapshotId, k2.SnapshotId, k1.SnapshotId], CommitHistory.History(_t.Table.Metadata, "s1").Select(c => c.SnapshotId));
    }

    /// <summary>Where the writer's commits in the current history leave each partition of topic "t": the end in the newest naming it.</summary>
    private Dictionary<int, long> Positions()
    {
        var ends = new Dictionary<int, long>();
        foreach (var commit in CommitHistory.History(_t.Table.Metadata, "s1"))
            if (commit.Summary.GetValueOrDefault(CommitHistory.KafkaTopicKey) == "t")
                foreach (var entry in commit.Summary[CommitHistory.KafkaOffsetsKey].Split(','))
                    ends.TryAdd(int.Parse(entry.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(entry.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture));
        return ends;
    }

    [Fact]
    public async Task Files_written_for_a_commit_still_in_flight_survive_expiry_and_the_commit_lands_whole()
    {
        await _t.AppendAsync(Range(0, 10));
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 10L)); // the first file now only in an old snapshot
        // A writer has written its files and not committed yet (a pipeline between its write and its commit).
        var inFlight = await _t.WriteAsync(Range(100, 10));
        var current = await _t.AppendAsync(Range(10, 10));

        var result = await ExpireAsync();
        Assert.Equal(2, result.ExpiredSnapshots.Count);
        Assert.Equal(1, result.DataFiles);
        Assert.All(inFlight, f => Assert.True(_t.Exists(f.FilePath), f.FilePath));

        await _t.Table.AppendAsync(inFlight);
        Assert.Equal(Range(10, 10).Concat(Range(100, 10)), await _t.IdsAsync());
        Assert.Equal(Range(10, 10), await _t.IdsAsync(current.SnapshotId));
    }

    [Fact]
    public async Task Time_travel_to_a_moment_whose_snapshot_expired_finds_nothing_rather_than_an_older_retained_snapshot()
    {
        var tagged = await _t.AppendAsync(Range(0, 10));
        await _t.Table.CreateTagAsync("v1");
        await Task.Delay(5);
        var middle = await _t.AppendAsync(Range(10, 10));
        await Task.Delay(5);
        var current = await _t.AppendAsync(Range(20, 10));
        Assert.Equal(middle.SnapshotId, _t.Table.Metadata.SnapshotAsOf(middle.TimestampMs)!.SnapshotId);

        await ExpireAsync();
        Assert.Null(_t.Table.Metadata.Snapshot(middle.SnapshotId));
        // The tag's snapshot is kept, but the table was not in its state at the middle's time: the log before the gap goes.
        Assert.NotNull(_t.Table.Metadata.Snapshot(tagged.SnapshotId));
        Assert.Null(_t.Table.Metadata.SnapshotAsOf(middle.TimestampMs));
        Assert.Equal(current.SnapshotId, _t.Table.Metadata.SnapshotAsOf(current.TimestampMs)!.SnapshotId);
        Assert.Equal(Range(0, 10), await _t.IdsAsync(reference: "v1"));
    }

    [Fact]
    public async Task A_dry_run_says_what_would_go_and_changes_nothing()
    {
        await _t.AppendAsync(Range(0, 10));
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 10L));
        await _t.AppendAsync(Range(10, 10));
        var files = _t.Files();
        var metadata = _t.Table.State.MetadataLocation;

        var dry = await ExpireAsync(options: new ExpireSnapshots.Options { DryRun = true });
        Assert.True(dry.DryRun);
        Assert.Equal(2, dry.ExpiredSnapshots.Count);
        Assert.Equal(1, dry.DataFiles);
        Assert.Equal(dry.FilesDeleted, dry.Files.Count);
        Assert.Equal(files, _t.Files());
        await _t.Table.RefreshAsync();
        Assert.Equal(metadata, _t.Table.State.MetadataLocation);

        var real = await ExpireAsync();
        Assert.Equal(dry.ExpiredSnapshots, real.ExpiredSnapshots);
        Assert.Equal(dry.Files.Order(), real.Files.Order());
        Assert.All(real.Files, k => Assert.DoesNotContain(k, _t.Files()));
    }
}
