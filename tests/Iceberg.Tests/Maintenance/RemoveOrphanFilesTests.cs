using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using DataPlane.TestServices;
using Xunit;
using static DataPlane.Iceberg.Tests.Maintenance.MaintenanceTable;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// Orphan removal: with branches, tags, time travel, position and equality deletes, expired snapshots, pipeline
/// checkpoints and in-flight writes, nothing reachable is deleted, and everything unreachable past the safety window is.
/// </summary>
public sealed class RemoveOrphanFilesTests : IAsyncLifetime
{
    private MaintenanceTable _t = null!;

    public async Task InitializeAsync() => _t = await CreateAsync(partitioned: true);

    public Task DisposeAsync()
    {
        _t.Dispose();
        return Task.CompletedTask;
    }

    private string PathOf(string key) => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(_t.Folder))!, key);

    private async Task<string> PutAsync(string key)
    {
        await _t.Store.PutAsync(key, new MemoryStream([1, 2, 3]));
        return key;
    }

    [Fact]
    public async Task Only_unreferenced_files_older_than_the_window_go_and_every_snapshot_stays_readable()
    {
        // History: appends, a tag, a branch with its own file, merge-on-read and equality deletes, a writer's commit
        // naming a checkpoint, and an expiry that leaves that writer's commit only as a marker.
        var first = await _t.AppendAsync(Range(0, 20), partitions: 2, summary: new Dictionary<string, string>
        {
            [CommitHistory.WriterKey] = "s1",
            [CommitHistory.CheckpointKey] = _t.Table.LocationOf("db/events/checkpoints/s1/0001"),
        });
        await _t.AppendAsync(Range(20, 20), partitions: 2);
        await _t.Table.CreateTagAsync("v1");
        await _t.Table.CreateBranchAsync("wap");
        await _t.AppendAsync(Range(100, 5), branch: "wap");
        await _t.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await _t.Table.DeleteWhereAsync(Expression.LessThan("id", 3L));
        var part1 = _t.Table.Spec.Partition(_t.Table.Schema, id => id == 2 ? 1 : null);
        await _t.Table.AddDeleteFilesAsync([await _t.EqualityDeletesAsync(part1, 21, 23)]);
        var current = await _t.AppendAsync(Range(40, 10), partitions: 2, summary: new Dictionary<string, string>
        {
            [CommitHistory.WriterKey] = "s2",
            [CommitHistory.CheckpointKey] = _t.Table.LocationOf("db/events/checkpoints/s2"),
        });
        await new ExpireSnapshots(_t.Table, new ManualTime(DateTimeOffset.UtcNow.AddDays(6))).RunAsync(new ExpireSnapshots.Options { OlderThan = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.Null(_t.Table.Metadata.Snapshot(first.SnapshotId)); // its commit lives on as a marker, and so does its checkpoint
        var snapshots = _t.Table.Metadata.Snapshots.Select(s => s.SnapshotId).ToList();
        var rows = new Dictionary<long, List<long>>();
        foreach (var id in snapshots) rows[id] = await _t.IdsAsync(id);

        // Files nothing references: an uncommitted data file, a stale manifest, an expired checkpoint of s1's;
        // and files that must stay: checkpoints, a pipeline's in-flight file, a fresh uncommitted file.
        var orphanData = (await _t.WriteAsync(Range(9000, 5))).Select(f => _t.Table.KeyOf(f.FilePath)).ToList();
        var orphanManifest = await PutAsync("db/events/metadata/0b1c-m0.avro");
        var oldCheckpoint = await PutAsync("db/events/checkpoints/s1/0000");
        var checkpoint1 = await PutAsync("db/events/checkpoints/s1/0001");
        var checkpoint2 = await PutAsync("db/events/checkpoints/s2/state/part-0");
        var inFlight = await PutAsync("db/events/data/part=0/in-flight.parquet");
        var young = await PutAsync("db/events/data/part=1/young.parquet");
        var time = new ManualTime(DateTimeOffset.UtcNow.AddDays(4));
        File.SetLastWriteTimeUtc(PathOf(young), time.GetUtcNow().UtcDateTime.AddHours(-1));
        var before = _t.Files();

        var options = new RemoveOrphanFiles.Options { InFlight = _ => Task.FromResult<IReadOnlySet<string>>(new HashSet<string> { inFlight }) };
        var dry = await new RemoveOrphanFiles(_t.Table, time).RunAsync(options with { DryRun = true });
        string[] expected = [.. orphanData, orphanManifest, oldCheckpoint];
        Assert.Equal(expected.Order(), dry.Orphans.Order());
        Assert.Equal(before, _t.Files());

        var result = await new RemoveOrphanFiles(_t.Table, time).RunAsync(options);
        Assert.Equal(expected.Order(), result.Orphans.Order());
        Assert.Equal(1, result.KeptInFlight);
        Assert.Equal(1, result.KeptYoung);
        Assert.Equal(before.Except(expected).Order(), _t.Files());
        foreach (var kept in new[] { checkpoint1, checkpoint2, inFlight, young, "db/events/metadata/version-hint.text" })
            Assert.Contains(kept, _t.Files());
        foreach (var id in snapshots)
            Assert.Equal(rows[id], await _t.IdsAsync(id));
        Assert.Equal(Range(0, 40), await _t.IdsAsync(reference: "v1"));
        Assert.Equal(Range(0, 40).Concat(Range(100, 5)), await _t.IdsAsync(reference: "wap"));
        Assert.Equal(Range(3, 47).Where(i => i is not (21 or 23)), await _t.IdsAsync(current.SnapshotId));

        // Within the window nothing goes.
        var orphan = (await _t.WriteAsync(Range(9100, 5))).Select(f => _t.Table.KeyOf(f.FilePath)).Single();
        Assert.Empty((await new RemoveOrphanFiles(_t.Table).RunAsync()).Orphans);
        Assert.Contains(orphan, _t.Files());
    }

    [Fact]
    public async Task Nothing_is_deleted_when_a_manifest_cannot_be_read()
    {
        await _t.AppendAsync(Range(0, 10), partitions: 2);
        await _t.Table.CreateTagAsync("v1");
        await _t.AppendAsync(Range(10, 10), partitions: 2);
        var orphan = (await _t.WriteAsync(Range(9000, 5), partitions: 1)).Select(f => _t.Table.KeyOf(f.FilePath)).Single();
        var list = _t.Table.Metadata.Snapshot(_t.Table.Metadata.Refs["v1"].SnapshotId)!.ManifestList!;
        File.Delete(new Uri(list).LocalPath);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new RemoveOrphanFiles(_t.Table, new ManualTime(DateTimeOffset.UtcNow.AddDays(4))).RunAsync());
        Assert.Contains("cannot be read", e.Message, StringComparison.Ordinal);
        Assert.Contains(orphan, _t.Files());
    }
}
