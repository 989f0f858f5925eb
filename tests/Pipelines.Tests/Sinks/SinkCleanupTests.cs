using DataPlane.Iceberg.Scanning;
using Xunit;
using Xunit.Abstractions;
using static DataPlane.Pipelines.Tests.Sinks.SharedTable;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// A sink's start-up and retry clean-up removes only files its own pipeline wrote and no snapshot references: the
/// scenarios of issue 13 in which it deleted other writers' committed files. After each, every snapshot still in the
/// metadata (current, older, branches, tags) is read whole by DuckDB and by icebird, and no acknowledged record is
/// missing from the current one.
/// </summary>
public sealed class SinkCleanupTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sink-cleanup-").FullName;
    private SharedTable _table = null!;

    public async Task InitializeAsync() => _table = await StartAsync(_dir);

    private async Task OnePipelineAsync()
    {
        await _table.CreateStreamAsync("s1");
        await _table.CreateSinkAsync("t1");
        await _table.CreatePipelineAsync("p1", "s1", "t1");
    }

    [Fact]
    public async Task A_two_pipelines_write_one_table_and_one_is_recreated_repeatedly()
    {
        await _table.CreateStreamAsync("s1");
        await _table.CreateStreamAsync("s2");
        await _table.CreateSinkAsync("t1", """{"max_rows": 10}""");
        await _table.CreateSinkAsync("t2", """{"max_rows": 10}""");
        await _table.CreatePipelineAsync("p1", "s1", "t1");
        await _table.CreatePipelineAsync("p2", "s2", "t2");
        await _table.IngestAsync("s1", Range(0, 10));
        await _table.FlushAsync("p1");

        // 250 records each, 10 a request: p2 commits every request while p1 is deleted and created again and again.
        using var done = new CancellationTokenSource();
        int recreations = 0;
        var recreate = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await _table.RecreatePipelineAsync("p1", "s1", "t1");
                await _table.WaitRunningAsync("p1");
                recreations++;
            }
        });
        for (int i = 1; i < 25; i++)
        {
            await _table.IngestAsync("s1", Range(i * 10, 10));
            await _table.IngestAsync("s2", Range(1000 + (i - 1) * 10, 10));
            await Task.Delay(20);
        }
        await _table.IngestAsync("s2", Range(1240, 10));
        done.Cancel();
        await recreate;
        await _table.FlushAsync("p1");
        await _table.FlushAsync("p2");
        output.WriteLine($"p1 re-created {recreations} times");

        using var outside = await _table.OutsideAsync();
        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 250).Concat(Range(1000, 250)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task B_another_writers_file_written_before_a_pipeline_restart_and_committed_after_it_stays()
    {
        await OnePipelineAsync();
        await _table.IngestAsync("s1", Range(0, 100));
        await _table.FlushAsync("p1");

        // Spark writes its tasks' files, then commits them when the job ends, seconds later.
        using var outside = await _table.OutsideAsync();
        var files = await outside.WriteAsync(Range(5000, 50));
        await _table.RecreatePipelineAsync("p1", "s1", "t1");
        await _table.WaitRunningAsync("p1");
        await outside.Table.RefreshAsync();
        await outside.Table.AppendAsync(files);

        await _table.IngestAsync("s1", Range(100, 50));
        await _table.FlushAsync("p1");
        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 150).Concat(Range(5000, 50)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task C_a_merge_on_read_deletes_position_delete_file_stays_through_a_restart()
    {
        await OnePipelineAsync();
        await _table.IngestAsync("s1", Range(0, 100));
        await _table.FlushAsync("p1");

        using var outside = await _table.OutsideAsync();
        await outside.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        await outside.Table.DeleteWhereAsync(Expression.And(Expression.GreaterThanOrEqual("id", 10L), Expression.LessThan("id", 20L)));
        Assert.Contains(await outside.Table.NewScan().PlanFilesAsync(), t => t.DeleteFiles.Count > 0);

        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(100, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 150).Where(id => id is < 10 or >= 20), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task D_after_a_copy_on_write_delete_the_earlier_snapshots_stay_readable()
    {
        await OnePipelineAsync();
        var earlier = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            earlier.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.DeleteWhereAsync(Expression.And(Expression.GreaterThanOrEqual("id", 40L), Expression.LessThan("id", 110L)));

        await _table.RecreatePipelineAsync("p1", "s1", "t1");
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(150, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        for (int i = 0; i < 3; i++)
            Assert.Equal(Range(0, 50 * (i + 1)), snapshots[earlier[i]]); // time travel
        Assert.Equal(Range(0, 200).Where(id => id is < 40 or >= 110), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task E_after_a_rollback_through_the_rest_catalog_the_newer_snapshots_stay_readable_and_the_pipeline_redelivers()
    {
        await OnePipelineAsync();
        var commits = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            commits.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.RollbackToAsync(commits[0]);

        await _table.RestartAsync();
        await _table.FlushAsync("p1"); // resumes from its last commit in main's history: records 50..149 again

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 100), snapshots[commits[1]]);
        Assert.Equal(Range(0, 150), snapshots[commits[2]]);
        Assert.Equal(Range(0, 150), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
        Assert.DoesNotContain(outside.Table.Metadata.CurrentSnapshotId!.Value, commits);
    }

    [Fact]
    public async Task E_a_rollback_while_the_pipeline_runs_makes_its_next_commit_redeliver_what_was_rolled_back()
    {
        await OnePipelineAsync();
        var commits = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            commits.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.RollbackToAsync(commits[0]);

        // No restart: the next commit finds its previous one rolled back, gives up its files and starts again after commit 0.
        await _table.IngestAsync("s1", Range(150, 50));
        await _table.FlushAsync("p1");

        var reads = _table.Readers(outside);
        var snapshots = await reads.EverySnapshotAsync();
        Assert.Equal(Range(0, 150), snapshots[commits[2]]);
        Assert.Equal(Range(0, 200), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
        // The files of the refused commit were the pipeline's own and nothing references them: they are gone, and the log says why.
        Assert.Empty(await reads.UnreferencedDataFilesAsync());
        var logs = _table.Host.Logs.Lines;
        Assert.Contains(logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains($"Snapshot {commits[2]}, the last commit of sink 't1'", StringComparison.Ordinal)
            && l.Contains("rolled back", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("p1: removed 1 file(s) it wrote for a commit that did not land", StringComparison.Ordinal)
            && l.Contains("no snapshot of table default.events references them", StringComparison.Ordinal));
    }

    [Fact]
    public async Task E_after_a_rollback_past_what_the_log_still_holds_the_pipeline_resumes_where_the_log_starts()
    {
        await _table.DisposeAsync();
        // Small segments: the log lets go of each batch's segment once the pipeline has committed past it.
        _table = await StartAsync(Path.Combine(_dir, "small-segments"), configure: o => o.SegmentBytes = 1024);
        await OnePipelineAsync();
        var commits = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await _table.IngestAsync("s1", Range(i * 50, 50));
            commits.Add(await _table.FlushAsync("p1"));
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.RollbackToAsync(commits[0]);

        // Records 50..99 are gone from the log: they stay in the rolled-back snapshots and are not delivered again,
        // but the pipeline goes on from where the log starts instead of failing for good.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(150, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 150), snapshots[commits[2]]);
        Assert.Equal(Range(0, 50).Concat(Range(100, 100)), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    [Fact]
    public async Task A_recorded_file_that_a_commit_did_land_is_kept()
    {
        await OnePipelineAsync();
        await _table.IngestAsync("s1", Range(0, 50));
        var committed = await _table.FlushAsync("p1");
        using var outside = await _table.OutsideAsync();
        var file = Assert.Single(await outside.Table.NewScan().UseSnapshot(committed).PlanFilesAsync()).File.FilePath;

        // The process died right after the commit, before it cleared its journal: the journal still names the file.
        await _table.RestartAsync(() => File.WriteAllText(Path.Combine(_dir, "pipelines", "pipelines", "p1.files"),
            $"{outside.Table.Metadata.TableUuid}\n{outside.Table.KeyOf(file)}\n"));
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(50, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 50), snapshots[committed]);
        Assert.Equal(Range(0, 100), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
        Assert.Contains(_table.Host.Logs.Lines, l => l.Contains("p1: kept 1 recorded file(s) that a commit did land", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_sinks_failed_commits_leave_none_of_its_files_and_nothing_else_in_its_folder_is_touched()
    {
        await _table.CreateStreamAsync("s1");
        await _table.PostAsync("api/v1/sinks", """{"name": "raw", "type": "files", "path": "raw/events", "rolling": {"interval_seconds": 3600}}""", System.Net.HttpStatusCode.Created);
        await _table.CreatePipelineAsync("p1", "s1", "raw");
        await _table.IngestAsync("s1", Range(0, 50));
        await _table.FlushAsync("p1");
        var folder = Path.Combine(_dir, "warehouse", "raw", "events");
        var foreign = Path.Combine(folder, "year=2026", "month=01", "day=01", "someone-elses.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        File.Copy(DataFiles(folder)[0], foreign);

        // A folder where the next commit's journal entry goes: each commit fails after its data file was written.
        var blocker = Path.Combine(folder, "_dataplane", "commits", "00000000000000000002.json");
        Directory.CreateDirectory(blocker);
        await _table.IngestAsync("s1", Range(50, 50));
        for (int attempt = 0; attempt < 3; attempt++) // each run writes the roll's file again and fails at its commit
            await _table.PostAsync("api/v1/pipelines/p1/flush", "", System.Net.HttpStatusCode.Conflict);
        Assert.Equal(3, await FailuresAsync());
        Directory.Delete(blocker);
        await _table.FlushAsync("p1");

        var committed = Directory.GetFiles(Path.Combine(folder, "_dataplane", "commits"))
            .SelectMany(c => System.Text.Json.JsonDocument.Parse(File.ReadAllText(c)).RootElement.GetProperty("files").EnumerateArray())
            .Select(f => Path.Combine(_dir, "warehouse", f.GetProperty("key").GetString()!)).ToHashSet();
        Assert.Equal(2, committed.Count);
        Assert.Equal(committed.Append(foreign).Order(), DataFiles(folder).Order());
    }

    private static List<string> DataFiles(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/_dataplane/", StringComparison.Ordinal)).ToList();

    private async Task<long> FailuresAsync()
    {
        var metrics = await _table.Http.GetStringAsync("metrics");
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("dataplane_pipeline_errors_total{otel_scope_name=\"DataPlane.Pipelines\",pipeline=\"p1\"}", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task F_files_committed_to_a_branch_stay_through_a_restart()
    {
        await OnePipelineAsync();
        await _table.IngestAsync("s1", Range(0, 50));
        var first = await _table.FlushAsync("p1");

        // Write-audit-publish: the outside writer stages rows on a branch; main does not have them yet.
        using var outside = await _table.OutsideAsync();
        await outside.Table.CreateBranchAsync("audit");
        await outside.Table.CreateTagAsync("before_audit", first);
        var staged = await outside.AppendAsync(Range(5000, 50), branch: "audit");

        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await _table.IngestAsync("s1", Range(50, 50));
        await _table.FlushAsync("p1");

        var snapshots = await _table.Readers(outside).EverySnapshotAsync();
        Assert.Equal(Range(0, 50).Concat(Range(5000, 50)), snapshots[staged.SnapshotId]);
        Assert.Equal(Range(0, 50), snapshots[first]);
        Assert.Equal(Range(0, 100), snapshots[outside.Table.Metadata.CurrentSnapshotId!.Value]);
    }

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
