using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using Xunit;

namespace DataPlane.Iceberg.Tests.Operations;

public sealed class TableOperationsTests : IDisposable
{
    private static readonly Schema Schema = new(0, [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "data", PrimitiveType.String),
        NestedField.Optional(3, "ts", PrimitiveType.TimestampTz),
    ]);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-ops");
    private readonly IObjectStore _store;

    public TableOperationsTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private static long Micros(int day, int hour = 0) => (new DateTime(2024, 1, day, hour, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;

    private async Task<Table> CreateAsync(PartitionSpec? spec = null) =>
        await Table.CreateAsync(_store, new FileTableCommitter(_store, "db/events"), _store.Location + "db/events", Schema,
            spec ?? PartitionSpec.BuilderFor(Schema).Day("ts").Bucket("id", 16).Build());

    /// <summary>A data file as the Parquet writer would describe it: ids minId..maxId, all on one day.</summary>
    private static DataFile File(Table table, string name, long minId, long maxId, int day)
    {
        var spec = table.Spec;
        var partition = spec.Fields.Count == 0 ? PartitionData.Empty
            : spec.Partition(table.Schema, id => id switch { 1 => minId, 3 => Micros(day), _ => null });
        return new DataFile
        {
            FilePath = table.LocationOf($"db/events/data/{name}.parquet"),
            SpecId = spec.SpecId,
            Partition = partition,
            RecordCount = maxId - minId + 1,
            FileSizeInBytes = 1000 + minId,
            ValueCounts = new Dictionary<int, long> { [1] = maxId - minId + 1, [3] = maxId - minId + 1 },
            NullValueCounts = new Dictionary<int, long> { [1] = 0, [3] = 0 },
            LowerBounds = new Dictionary<int, byte[]> { [1] = Conversions.ToBytes(PrimitiveType.Long, minId), [3] = Conversions.ToBytes(PrimitiveType.TimestampTz, Micros(day)) },
            UpperBounds = new Dictionary<int, byte[]> { [1] = Conversions.ToBytes(PrimitiveType.Long, maxId), [3] = Conversions.ToBytes(PrimitiveType.TimestampTz, Micros(day, 23)) },
        };
    }

    private static async Task<List<string>> FilesAsync(TableScan scan) =>
        (await scan.PlanFilesAsync()).Select(t => t.File.FilePath[(t.File.FilePath.LastIndexOf('/') + 1)..]).Order().ToList();

    [Fact]
    public async Task Append_commits_a_snapshot_with_standard_summary_and_unique_metadata_files()
    {
        var table = await CreateAsync();
        var snapshot = await table.AppendAsync([File(table, "a", 1, 10, 1), File(table, "b", 11, 30, 2)], new Dictionary<string, string> { ["source-offsets"] = "p0:42" });

        Assert.Equal("append", snapshot.Operation);
        Assert.Equal("2", snapshot.Summary["added-data-files"]);
        Assert.Equal("30", snapshot.Summary["added-records"]);
        Assert.Equal("30", snapshot.Summary["total-records"]);
        Assert.Equal("2", snapshot.Summary["total-data-files"]);
        Assert.Equal("2", snapshot.Summary["changed-partition-count"]);
        Assert.Equal("2012", snapshot.Summary["added-files-size"]);
        Assert.Equal("p0:42", snapshot.Summary["source-offsets"]);
        Assert.Equal(1, snapshot.SequenceNumber);

        var metadataFiles = Directory.GetFiles(Path.Combine(_dir.FullName, "db/events/metadata")).Select(Path.GetFileName).ToList();
        Assert.Contains("version-hint.text", metadataFiles);
        Assert.Equal("2", System.IO.File.ReadAllText(Path.Combine(_dir.FullName, "db/events/metadata/version-hint.text")));
        Assert.Contains(metadataFiles, f => f!.StartsWith("00001-", StringComparison.Ordinal) && f.EndsWith(".metadata.json", StringComparison.Ordinal));
        Assert.Contains(metadataFiles, f => f!.StartsWith("00002-", StringComparison.Ordinal));
        Assert.Contains("v2.metadata.json", metadataFiles);
        Assert.Contains(metadataFiles, f => f!.StartsWith($"snap-{snapshot.SnapshotId}-1-", StringComparison.Ordinal));
        Assert.EndsWith(".metadata.json", table.State.MetadataLocation);
        Assert.Contains("/00002-", table.State.MetadataLocation);
        Assert.Contains("/00001-", table.Metadata.MetadataLog.Single().MetadataFile);

        var reloaded = await Table.LoadAsync(_store, new FileTableCommitter(_store, "db/events"));
        Assert.Equal(table.State.MetadataLocation, reloaded.State.MetadataLocation);
        Assert.Equal(snapshot.SnapshotId, reloaded.Metadata.CurrentSnapshotId);
        Assert.Equal(["a.parquet", "b.parquet"], await FilesAsync(reloaded.NewScan()));
    }

    [Fact]
    public async Task Scans_prune_by_partition_values_and_column_metrics()
    {
        var table = await CreateAsync();
        await table.AppendAsync([File(table, "a", 1, 10, 1), File(table, "b", 11, 30, 2), File(table, "c", 31, 40, 3)]);

        Assert.Equal(["b.parquet"], await FilesAsync(table.NewScan().Filter(Expression.Equal("ts", Micros(2, 5)))));
        Assert.Equal(["a.parquet", "b.parquet"], await FilesAsync(table.NewScan().Filter(Expression.LessThan("ts", new DateTime(2024, 1, 3, 0, 0, 0, DateTimeKind.Utc)))));
        Assert.Equal(["c.parquet"], await FilesAsync(table.NewScan().Filter(Expression.GreaterThanOrEqual("id", 35L))));
        Assert.Equal(["a.parquet", "c.parquet"], await FilesAsync(table.NewScan().Filter(Expression.Or(Expression.LessThanOrEqual("id", 5), Expression.GreaterThan("id", 30)))));
        Assert.Equal(["b.parquet"], await FilesAsync(table.NewScan().Filter(Expression.And(Expression.GreaterThan("id", 5L), Expression.Equal("ts", "2024-01-02T10:00:00Z")))));
        Assert.Empty(await FilesAsync(table.NewScan().Filter(Expression.IsNull("id"))));
        Assert.Equal(3, (await FilesAsync(table.NewScan().Filter(Expression.NotNull("id")))).Count);
        // bucket(16, id) of the file's first id: equality on another id prunes through the bucket.
        var bucketOfOne = (int)Transform.Bucket(16).Apply(PrimitiveType.Long, 1L)!;
        var other = Enumerable.Range(2, 100).Select(i => (long)i).First(i => (int)Transform.Bucket(16).Apply(PrimitiveType.Long, i)! != bucketOfOne);
        Assert.DoesNotContain("a.parquet", await FilesAsync(table.NewScan().Filter(Expression.In("id", other, 1000L))));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => table.NewScan().Filter(Expression.Equal("id", "x")).PlanFilesAsync());
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public async Task Overwrite_delete_and_replace_keep_history_and_sequence_numbers()
    {
        var table = await CreateAsync();
        var s1 = await table.AppendAsync([File(table, "a", 1, 10, 1), File(table, "b", 11, 30, 2)]);
        var s2 = await table.OverwriteAsync(Expression.And(Expression.GreaterThanOrEqual("ts", Micros(1)), Expression.LessThan("ts", Micros(2))), [File(table, "a2", 1, 5, 1)]);
        Assert.Equal("overwrite", s2.Operation);
        Assert.Equal("1", s2.Summary["deleted-data-files"]);
        Assert.Equal("10", s2.Summary["deleted-records"]);
        Assert.Equal("25", s2.Summary["total-records"]);
        Assert.Equal(["a2.parquet", "b.parquet"], await FilesAsync(table.NewScan()));

        var tasks = await table.NewScan().PlanFilesAsync();
        Assert.Equal(1, tasks.Single(t => t.File.FilePath.EndsWith("b.parquet", StringComparison.Ordinal)).DataSequenceNumber);
        Assert.Equal(2, tasks.Single(t => t.File.FilePath.EndsWith("a2.parquet", StringComparison.Ordinal)).DataSequenceNumber);

        var s3 = await table.ReplaceFilesAsync([File(table, "b", 11, 30, 2).FilePath], [File(table, "b2", 11, 30, 2)]);
        Assert.Equal("replace", s3.Operation);
        Assert.Equal("25", s3.Summary["total-records"]);
        var s4 = await table.DeleteFilesAsync([File(table, "a2", 1, 5, 1).FilePath]);
        Assert.Equal("delete", s4.Operation);
        Assert.Equal("20", s4.Summary["total-records"]);
        Assert.Equal(["b2.parquet"], await FilesAsync(table.NewScan()));
        Assert.Equal(4, table.Metadata.LastSequenceNumber);

        // Time travel still sees the old files.
        Assert.Equal(["a.parquet", "b.parquet"], await FilesAsync(table.NewScan().UseSnapshot(s1.SnapshotId)));
        Assert.Equal(["a2.parquet", "b.parquet"], await FilesAsync(table.NewScan().AsOfTime(s2.TimestampMs)));
        Assert.Equal([s4.SnapshotId, s3.SnapshotId, s2.SnapshotId, s1.SnapshotId], table.Metadata.Ancestors(s4.SnapshotId).Select(s => s.SnapshotId));
    }

    [Fact]
    public async Task Branches_tags_and_rollback()
    {
        var table = await CreateAsync();
        var s1 = await table.AppendAsync([File(table, "a", 1, 10, 1)]);
        await table.CreateTagAsync("v1");
        await table.CreateBranchAsync("audit");
        var onBranch = await table.AppendAsync([File(table, "x", 100, 110, 4)], branch: "audit");
        var s2 = await table.AppendAsync([File(table, "b", 11, 30, 2)]);

        Assert.Equal(s2.SnapshotId, table.Metadata.CurrentSnapshotId);
        Assert.Equal(s1.SnapshotId, onBranch.ParentSnapshotId);
        Assert.Equal(["a.parquet", "x.parquet"], await FilesAsync(table.NewScan().UseRef("audit")));
        Assert.Equal(["a.parquet"], await FilesAsync(table.NewScan().UseRef("v1")));
        Assert.Equal(SnapshotRefType.Tag, table.Metadata.Refs["v1"].Type);
        await Assert.ThrowsAsync<ArgumentException>(() => table.AppendAsync([File(table, "y", 1, 1, 1)], branch: "v1"));

        await table.RollbackToAsync(s1.SnapshotId);
        Assert.Equal(["a.parquet"], await FilesAsync(table.NewScan()));
        await Assert.ThrowsAsync<ArgumentException>(() => table.RollbackToAsync(onBranch.SnapshotId));
        await table.SetCurrentSnapshotAsync(s2.SnapshotId);
        Assert.Equal(["a.parquet", "b.parquet"], await FilesAsync(table.NewScan()));
        await table.RemoveRefAsync("audit");
        Assert.False(table.Metadata.Refs.ContainsKey("audit"));
    }

    [Fact]
    public async Task A_writer_that_loses_the_race_reapplies_its_change_to_the_fresh_metadata()
    {
        var first = await CreateAsync();
        var second = await Table.LoadAsync(_store, new FileTableCommitter(_store, "db/events"));
        await first.AppendAsync([File(first, "a", 1, 10, 1)]);
        await second.AppendAsync([File(second, "b", 11, 30, 2)]); // based on stale metadata: retried

        await first.RefreshAsync();
        Assert.Equal(["a.parquet", "b.parquet"], await FilesAsync(first.NewScan()));
        Assert.Equal(2, first.Metadata.LastSequenceNumber);
        Assert.Equal("30", first.Metadata.CurrentSnapshot!.Summary["total-records"]);

        // A stale commit without retry is refused by the committer.
        var committer = new FileTableCommitter(_store, "db/events");
        var stale = second.State with { MetadataLocation = first.Metadata.MetadataLog[0].MetadataFile };
        await Assert.ThrowsAsync<CommitFailedException>(() => committer.CommitAsync(new TableCommit(stale, first.Metadata)));
    }

    [Fact]
    public async Task Schema_and_partition_evolution_commit_and_old_files_keep_their_spec()
    {
        var table = await CreateAsync();
        await table.AppendAsync([File(table, "a", 1, 10, 1)]);
        await table.UpdateSchemaAsync(u => u.AddColumn("score", PrimitiveType.Double).RenameColumn("data", "payload"));
        await table.UpdateSpecAsync(u => u.RemoveField("id_bucket"));
        Assert.Equal(1, table.Metadata.CurrentSchemaId);
        Assert.Equal(4, table.Metadata.LastColumnId);
        Assert.Equal(1, table.Spec.SpecId);
        await table.AppendAsync([File(table, "b", 11, 30, 2)]);

        var tasks = await table.NewScan().PlanFilesAsync();
        Assert.Equal([0, 1], tasks.Select(t => t.Spec.SpecId).Order());
        Assert.Equal(2, table.Metadata.Schema(1).Field("payload").Id);
        Assert.Equal(["b.parquet"], await FilesAsync(table.NewScan().Filter(Expression.Equal("ts", Micros(2, 3)))));
    }

    [Fact]
    public async Task Referenced_files_are_the_data_and_delete_files_of_every_snapshot_current_older_and_on_branches()
    {
        var table = await CreateAsync();
        await table.AppendAsync([File(table, "a", 1, 10, 1), File(table, "b", 11, 20, 1)]);
        await table.DeleteFilesAsync([table.LocationOf("db/events/data/a.parquet")]); // a stays in the older snapshot only
        await table.CreateBranchAsync("audit");
        await table.AppendAsync([File(table, "c", 21, 30, 2)], branch: "audit");
        var b = File(table, "b", 11, 20, 1);
        await table.AddDeleteFilesAsync([b with
        {
            Content = FileContent.PositionDeletes,
            FilePath = table.LocationOf("db/events/data/b-deletes.parquet"),
            RecordCount = 2,
            ReferencedDataFile = b.FilePath,
        }]);

        var referenced = await table.ReferencedFilesAsync();
        Assert.Equal(["a.parquet", "b-deletes.parquet", "b.parquet", "c.parquet"], referenced.Select(f => f[(f.LastIndexOf('/') + 1)..]).Order());
    }

    [Fact]
    public async Task Referenced_files_are_not_guessed_when_a_manifest_cannot_be_read()
    {
        var table = await CreateAsync();
        await table.AppendAsync([File(table, "a", 1, 10, 1)]);
        await table.AppendAsync([File(table, "b", 11, 20, 1)]);
        var firstManifest = (await SnapshotManifests.ReadAsync(table.IO, table.Metadata.Snapshots[0], default)).Single();
        await _store.DeleteAsync(table.IO.KeyOf(firstManifest.ManifestPath));

        // a.parquet is named only by the missing manifest: a clean-up that took it for unreferenced would delete it.
        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => table.ReferencedFilesAsync());
        Assert.Contains(firstManifest.ManifestPath, refused.Message);
    }

    [Fact]
    public async Task An_append_is_validated_against_the_metadata_it_lands_on_and_refused_when_validation_throws()
    {
        var table = await CreateAsync();
        await table.AppendAsync([File(table, "a", 1, 10, 1)]);
        var other = await Table.LoadAsync(_store, new FileTableCommitter(_store, "db/events"));
        var concurrent = await other.AppendAsync([File(other, "b", 11, 20, 1)]); // table's metadata is stale now

        var seen = new List<long?>();
        await table.AppendAsync([File(table, "c", 21, 30, 1)], validate: m => seen.Add(m.CurrentSnapshotId));
        Assert.Equal(concurrent.SnapshotId, seen[^1]); // the retry validated the metadata the append landed on

        var before = table.Metadata.Snapshots.Count;
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.AppendAsync([File(table, "d", 31, 40, 1)], validate: _ => throw new InvalidOperationException("no")));
        await table.RefreshAsync();
        Assert.Equal(before, table.Metadata.Snapshots.Count);
        Assert.Equal(["a.parquet", "b.parquet", "c.parquet"], await FilesAsync(table.NewScan()));
    }
}
