using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using Xunit;
using static DataPlane.Pipelines.Tests.Sinks.SharedTable;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// A pipeline keeps exactly once when snapshot expiry (run by another writer through the REST catalog) removes the
/// snapshot of its last commit: it finds that commit through the marker expiry leaves where it cuts the history, both
/// while it runs and after a restart, and a rollback past its commits still makes it deliver them again, once.
/// </summary>
public sealed class PipelineAcrossExpiryTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-expiry-").FullName;
    private SharedTable _table = null!;

    public async Task InitializeAsync()
    {
        _table = await StartAsync(_dir);
        await _table.CreateStreamAsync("s1");
        await _table.CreateSinkAsync("t1");
        await _table.CreatePipelineAsync("p1", "s1", "t1");
    }

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Expires every snapshot but the current one, as the outside writer sees the table.</summary>
    private static Task<ExpireSnapshots.Result> ExpireAllButCurrentAsync(OutsideWriter outside) =>
        new ExpireSnapshots(outside.Table).RunAsync(new ExpireSnapshots.Options { OlderThan = DateTimeOffset.UtcNow.AddMinutes(10), RetainLast = 1 });

    [Fact]
    public async Task The_pipeline_resumes_exactly_once_after_expiry_removed_the_snapshot_of_its_last_commit()
    {
        await _table.IngestAsync("s1", Range(0, 100));
        var commit = await _table.FlushAsync("p1");
        using var outside = await _table.OutsideAsync();
        await outside.AppendAsync(Range(5000, 10));
        await outside.AppendAsync(Range(5010, 10));

        var expired = await ExpireAllButCurrentAsync(outside);
        Assert.Contains(commit, expired.ExpiredSnapshots);
        Assert.Equal(commit, CommitHistory.LastCommit(outside.Table.Metadata, "t1")!.SnapshotId);

        // Running on: its next commit continues from the expired one.
        await _table.IngestAsync("s1", Range(100, 50));
        await _table.FlushAsync("p1");
        await ExpireAllButCurrentAsync(outside);

        // Restarted: it resumes after its last commit, whose snapshot is gone, not from the start of its log.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(150, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 200).Concat(Range(5000, 20)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task A_rollback_past_the_pipelines_commits_still_redelivers_them_once_after_expiry()
    {
        var commits = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            commits.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.RollbackToAsync(commits[0]);
        await outside.AppendAsync(Range(5000, 10));

        // The pipeline's first commit, and the two rolled back, expire; its last commit in the history is the first.
        var expired = await ExpireAllButCurrentAsync(outside);
        Assert.Equal(commits.Order(), expired.ExpiredSnapshots.Where(commits.Contains).Order());

        await _table.RestartAsync();
        await _table.FlushAsync("p1"); // records 50..149 again, once

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 150).Concat(Range(5000, 10)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }
}
