using DataPlane.TestServices;
using Xunit;
using static DataPlane.Pipelines.Tests.Sinks.SharedTable;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>Scenarios of <see cref="SinkCleanupTests"/> with the warehouse on a real S3 server (s3rver here).</summary>
public sealed class SinkCleanupS3Tests(S3ServerFixture s3) : IClassFixture<S3ServerFixture>, IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sink-cleanup-s3-").FullName;
    private SharedTable _table = null!;

    public async Task InitializeAsync() => _table = await StartAsync(_dir, s3.Server);

    [Fact]
    public async Task After_a_rollback_through_the_rest_catalog_and_a_restart_every_snapshot_reads_from_s3()
    {
        await _table.CreateStreamAsync("s1");
        await _table.CreateSinkAsync("t1");
        await _table.CreatePipelineAsync("p1", "s1", "t1");
        var commits = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            commits.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        var staged = await outside.WriteAsync(Range(5000, 20)); // another writer's files, committed after the restart
        await outside.Table.RollbackToAsync(commits[0]);

        await _table.RestartAsync();
        await _table.FlushAsync("p1");
        await outside.Table.RefreshAsync();
        await outside.Table.AppendAsync(staged);

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 100), snapshots[commits[1]]);
        Assert.Equal(Range(0, 150), snapshots[commits[2]]);
        Assert.Equal(Range(0, 150).Concat(Range(5000, 20)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
