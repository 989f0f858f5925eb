using System.Globalization;
using System.Net;
using System.Text.Json;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Pipelines.Tests.Sinks;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// A windowed pipeline keeps its windows across restarts: each commit writes the statement's operator state as a
/// checkpoint next to the table and names it in the same snapshot summary as the offsets; a start restores the state
/// its sink's last commit names, found by walking past another writer's commits and through expiry's markers. Late
/// records go to the dead-letter sink; the status shows the watermark, state size, late records and last checkpoint;
/// expiry deletes the checkpoints only expired commits named and keeps the last, and orphan removal keeps it.
/// </summary>
public sealed class WindowedPipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-windows-").FullName;
    private SharedTable _table = null!;

    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public async Task InitializeAsync()
    {
        _table = await SharedTable.StartAsync(_dir);
        await _table.PostAsync("api/v1/streams", """
            {"name": "clicks", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}, {"name": "ts", "type": "timestamp"}]}}
            """, HttpStatusCode.Created);
        // Into default.events (id, user), which the outside writer also appends to; commits on flush only.
        await _table.CreateSinkAsync("t1");
        await _table.PostAsync("api/v1/sinks", """{"name": "late", "type": "iceberg", "namespace": "default", "table": "late", "rolling": {"interval_seconds": 3600}}""",
            HttpStatusCode.Created);
        // Per user and minute: the sum of the ids, as (user = "<user> <minute start>", id = sum).
        await _table.PostAsync("api/v1/pipelines", """
            {"name": "p1", "dead_letter": "late", "sql": "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO t1 SELECT user || ' ' || CAST(window_start AS VARCHAR) AS user, CAST(sum(id) AS BIGINT) AS id FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user"}
            """, HttpStatusCode.Created);
    }

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task IngestAsync(params (long Id, string User, double Seconds)[] records) =>
        _table.PostAsync("streams/clicks", string.Concat(records.Select(r => string.Create(CultureInfo.InvariantCulture,
            $$"""{"id": {{r.Id}}, "user": "{{r.User}}", "ts": "{{T0.AddSeconds(r.Seconds):yyyy-MM-ddTHH:mm:ss.fff}}"}""") + "\n")), HttpStatusCode.OK);

    private async Task<JsonElement> StatusAsync() =>
        JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/pipelines/p1")).RootElement;

    private async Task<List<string>> RowsAsync(string table, string select)
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, table));
        return files.Count == 0 ? [] : TableContents.Rows($"SELECT {select} FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    private string CheckpointFolder => Path.Combine(_dir, "warehouse", "default", "events", "checkpoints", "t1");

    /// <summary>The sink's checkpoints: the folders under <c>checkpoints/t1</c>, one per commit.</summary>
    private List<string> CheckpointFiles() =>
        Directory.Exists(CheckpointFolder) ? [.. Directory.GetDirectories(CheckpointFolder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)] : [];

    /// <summary>The folder name of a checkpoint location or key (which ends in '/').</summary>
    private static string Named(string checkpoint) => Path.GetFileName(checkpoint.TrimEnd('/'));

    /// <summary>A checkpoint's files: one per shard of the keyed state, and the main file.</summary>
    private static List<string> FilesOf(string folder) => [.. Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    private static List<string> ExpectedFiles(int shards) =>
        [PipelineCheckpoint.MainFile, .. Enumerable.Range(0, shards).Select(PipelineCheckpoint.ShardFile)];

    [Fact]
    public async Task A_restart_restores_the_windows_from_the_checkpoint_of_the_sinks_last_commit_past_another_writers_commits()
    {
        // Minute 0 opens for a and b; the flush commits no row (the window is open) but the state, with a checkpoint.
        await IngestAsync((1, "a", 1), (2, "b", 2), (3, "a", 3));
        await _table.FlushAsync("p1");
        var first = await StatusAsync();
        var state = Assert.Single(first.GetProperty("stateful").EnumerateArray());
        Assert.Equal("t1", state.GetProperty("sink").GetString());
        Assert.Equal("window tumble(60s)", state.GetProperty("operators")[0].GetProperty("operator").GetString());
        Assert.True(state.GetProperty("operators")[0].GetProperty("state_bytes").GetInt64() > 0);
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(3 - 10)), state.GetProperty("watermark").GetDateTimeOffset());
        var checkpoint = state.GetProperty("last_checkpoint");
        Assert.False(checkpoint.GetProperty("restored").GetBoolean());
        Assert.True(checkpoint.GetProperty("bytes").GetInt64() > 0);

        // The snapshot names the checkpoint beside its offsets; then another writer commits on top, twice.
        using var outside = await _table.OutsideAsync();
        await outside.Table.RefreshAsync();
        var commit = CommitHistory.LastCommit(outside.Table.Metadata, "t1")!;
        Assert.Equal(checkpoint.GetProperty("location").GetString(), commit.Summary[CommitHistory.CheckpointKey]);
        Assert.Equal("3", commit.Summary["dataplane.end-offset"]);
        Assert.Equal([Named(commit.Summary[CommitHistory.CheckpointKey])], CheckpointFiles());
        // A file per shard of the keyed state, and the main file.
        Assert.Equal(ExpectedFiles(Environment.ProcessorCount), FilesOf(Path.Combine(CheckpointFolder, CheckpointFiles()[0])));
        await outside.AppendAsync([5000]);
        await outside.AppendAsync([5001]);

        // Restarted: the windows come back from the checkpoint its last commit names, below the outside writer's snapshots.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        var restored = (await StatusAsync()).GetProperty("stateful")[0];
        Assert.True(restored.GetProperty("last_checkpoint").GetProperty("restored").GetBoolean());
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(3 - 10)), restored.GetProperty("watermark").GetDateTimeOffset());

        // More of minute 0, one late record (behind the watermark of 00:00:40), then minute 1 closes minute 0.
        await IngestAsync((4, "a", 50), (5, "b", 40));
        await IngestAsync((999, "a", 5), (6, "a", 75));
        await _table.FlushAsync("p1");

        var minute0 = T0.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(TableContents.Sorted([$"a {minute0}|8", $"b {minute0}|7", "outside|5000", "outside|5001"]), await RowsAsync("default.events", "user, id"));
        Assert.Equal(["p1|t1|late|999"], await RowsAsync("default.late", "pipeline, sink, reason, (\"record\"::JSON->>'id')::BIGINT"));
        var status = await StatusAsync();
        Assert.Equal(1, status.GetProperty("late_records").GetInt64());
        var after = status.GetProperty("stateful")[0];
        Assert.Equal(1, after.GetProperty("late_records").GetInt64());
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(75 - 10)), after.GetProperty("watermark").GetDateTimeOffset());
        Assert.False(after.GetProperty("last_checkpoint").GetProperty("restored").GetBoolean());
        Assert.Equal(7, after.GetProperty("last_checkpoint").GetProperty("end_offset").GetInt64());
    }

    [Fact]
    public async Task The_status_shows_each_stateful_operators_records_state_size_watermark_late_records_and_last_checkpoint()
    {
        // Minute 0 opens for a and b: three records in, nothing out yet, the window's groups in the checkpoint.
        await IngestAsync((1, "a", 1), (2, "b", 2), (3, "a", 3));
        await _table.FlushAsync("p1");
        var state = (await StatusAsync()).GetProperty("stateful")[0];
        var window = Assert.Single(state.GetProperty("operators").EnumerateArray());
        Assert.Equal("window tumble(60s)", window.GetProperty("operator").GetString());
        Assert.Equal("WindowAggregate", window.GetProperty("kind").GetString());
        Assert.Equal(["user"], window.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal((3, 0), (window.GetProperty("records_in").GetInt64(), window.GetProperty("records_out").GetInt64()));
        long open = window.GetProperty("state_bytes").GetInt64();
        Assert.True(open > 0);
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(3 - 10)), window.GetProperty("watermark").GetDateTimeOffset());
        Assert.Equal(0, window.GetProperty("late_records").GetInt64());
        var checkpoint = window.GetProperty("last_checkpoint");
        Assert.Equal(open, checkpoint.GetProperty("bytes").GetInt64());
        Assert.True(checkpoint.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.Equal(state.GetProperty("last_checkpoint").GetProperty("at").GetDateTimeOffset(), checkpoint.GetProperty("at").GetDateTimeOffset());

        // 01:15 closes minute 0 (two rows out, as the sink wrote); a record at 00:05 is then late and never reaches the window.
        await IngestAsync((4, "a", 75));
        await IngestAsync((999, "b", 5));
        await _table.FlushAsync("p1");
        var status = await StatusAsync();
        window = status.GetProperty("stateful")[0].GetProperty("operators")[0];
        Assert.Equal((4, 2), (window.GetProperty("records_in").GetInt64(), window.GetProperty("records_out").GetInt64()));
        Assert.Equal(2, status.GetProperty("sinks")[0].GetProperty("records_out").GetInt64());
        Assert.Equal(1, window.GetProperty("late_records").GetInt64());
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(75 - 10)), window.GetProperty("watermark").GetDateTimeOffset());
        Assert.True(window.GetProperty("state_bytes").GetInt64() > 0); // minute 1 is open

        // /metrics: the operator's watermark and state size, labelled with its pipeline, sink, operator and plan node.
        var metrics = (await _table.Http.GetStringAsync("metrics")).Split('\n');
        double Gauge(string name) => double.Parse(Assert.Single(metrics, l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains("pipeline=\"p1\"", StringComparison.Ordinal)
            && l.Contains($"node=\"{window.GetProperty("node").GetInt32()}\"", StringComparison.Ordinal) && l.Contains("operator=\"window tumble(60s)\"", StringComparison.Ordinal)
            && l.Contains("sink=\"t1\"", StringComparison.Ordinal)).Split(' ')[^1], CultureInfo.InvariantCulture);
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(75 - 10)).ToUnixTimeSeconds(), Gauge("dataplane_pipeline_operator_watermark_seconds"));
        Assert.Equal(window.GetProperty("state_bytes").GetInt64(), Gauge("dataplane_pipeline_operator_state_bytes"));
    }

    [Fact]
    public async Task A_pipeline_recreated_with_other_sql_into_the_same_sink_is_refused_the_windows_it_did_not_write()
    {
        await IngestAsync((1, "a", 1));
        await _table.FlushAsync("p1");
        var status = await StatusAsync();
        string sql = status.GetProperty("sql").GetString()!;

        // The same SQL again: it continues from the checkpoint.
        using (var deleted = await _table.Http.DeleteAsync("api/v1/pipelines/p1")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await _table.PostAsync("api/v1/pipelines", JsonSerializerBody("p1", sql), HttpStatusCode.Created);
        await _table.WaitRunningAsync("p1");
        Assert.True((await StatusAsync()).GetProperty("stateful")[0].GetProperty("last_checkpoint").GetProperty("restored").GetBoolean());

        // Two-minute windows where one-minute ones were saved: refused, saying why, rather than read as its own.
        using (var deleted = await _table.Http.DeleteAsync("api/v1/pipelines/p1")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await _table.PostAsync("api/v1/pipelines", JsonSerializerBody("p1", sql.Replace("INTERVAL '1' MINUTE", "INTERVAL '2' MINUTE", StringComparison.Ordinal)), HttpStatusCode.Created);
        string? error = null;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (error is null && DateTime.UtcNow < deadline)
        {
            var errors = (await StatusAsync()).GetProperty("errors");
            error = errors.GetArrayLength() > 0 ? errors[0].GetProperty("message").GetString() : null;
            await Task.Delay(50);
        }
        Assert.NotNull(error);
        Assert.Contains("it was written by a pipeline whose SQL differs from this one's", error);
        Assert.Contains("a changed statement needs a sink of its own", error);
    }

    [Fact]
    public async Task A_files_sink_keeps_the_checkpoint_of_its_last_commit_alone_and_restores_from_it()
    {
        await _table.PostAsync("api/v1/sinks", """{"name": "f1", "type": "files", "path": "raw/f1", "rolling": {"interval_seconds": 3600}}""", HttpStatusCode.Created);
        await _table.PostAsync("api/v1/pipelines", """
            {"name": "p2", "sql": "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO f1 SELECT user, CAST(sum(id) AS BIGINT) AS total FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user"}
            """, HttpStatusCode.Created);
        var folder = Path.Combine(_dir, "warehouse", "raw", "f1", "_dataplane");
        string Last() => Named(JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(Path.Combine(folder, "commits")).Order(StringComparer.Ordinal).Last()))
            .RootElement.GetProperty("checkpoint").GetString()!);
        List<string> Files() => [.. Directory.GetDirectories(Path.Combine(folder, "checkpoints")).Select(f => Path.GetFileName(f))];

        for (int i = 0; i < 3; i++)
        {
            await IngestAsync((i + 1, "a", i * 10 + 1));
            await _table.FlushAsync("p2");
            Assert.Equal([Last()], Files());
            Assert.Equal(ExpectedFiles(Environment.ProcessorCount), FilesOf(Path.Combine(folder, "checkpoints", Last())));
        }
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p2");
        await IngestAsync((4, "a", 70));
        await _table.FlushAsync("p2");
        var files = Directory.GetFiles(Path.Combine(_dir, "warehouse", "raw", "f1"), "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(["a|6"], TableContents.Rows($"SELECT user, total FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])"));
        Assert.Equal([Last()], Files());
    }

    [Fact]
    public async Task A_top_n_pipeline_restores_the_rows_its_windows_kept_and_emits_them_when_the_window_closes()
    {
        await _table.PostAsync("api/v1/sinks", """{"name": "f2", "type": "files", "path": "raw/f2", "rolling": {"interval_seconds": 3600}}""", HttpStatusCode.Created);
        await _table.PostAsync("api/v1/pipelines", """
            {"name": "p3", "sql": "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO f2 SELECT user, id, rn FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '1' MINUTE), user ORDER BY id DESC) AS rn FROM clicks) WHERE rn <= 2"}
            """, HttpStatusCode.Created);
        // Minute 0's two highest ids so far (5 and 3) are only in the checkpoint when the process restarts.
        await IngestAsync((1, "a", 1), (5, "a", 2), (3, "a", 3));
        await _table.FlushAsync("p3");
        var operators = JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/pipelines/p3")).RootElement.GetProperty("stateful")[0].GetProperty("operators");
        Assert.StartsWith("top-n tumble(60s) by [user] order [id DESC] row_number (keeps row_number <= 2)", operators[0].GetProperty("operator").GetString());
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p3");
        // 4 and 2 arrive after the restart; b's record at 01:15 moves the watermark past minute 0's end.
        await IngestAsync((4, "a", 20), (2, "a", 30), (9, "b", 75));
        await _table.FlushAsync("p3");
        var files = Directory.GetFiles(Path.Combine(_dir, "warehouse", "raw", "f2"), "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(["a|4|2", "a|5|1"], TableContents.Rows($"SELECT user, id, rn FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}]) ORDER BY id"));
    }

    private static string JsonSerializerBody(string name, string sql) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name, ["dead_letter"] = "late", ["sql"] = sql });

    [Fact]
    public async Task A_commit_whose_state_is_over_the_budget_is_refused_and_the_pipeline_says_why()
    {
        await using var host = await PipelinesHost.StartAsync(Path.Combine(_dir, "budget"), o => o.MaxStateBytes = 2_000);
        async Task Post(string path, string body)
        {
            using var response = await host.Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await Post("api/v1/streams", """{"name": "clicks", "schema": {"fields": [{"name": "user", "type": "string"}, {"name": "ts", "type": "timestamp"}]}}""");
        await Post("api/v1/sinks", """{"name": "t1", "type": "iceberg", "namespace": "default", "table": "budget", "rolling": {"interval_seconds": 3600}}""");
        await Post("api/v1/pipelines", """
            {"name": "p1", "sql": "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO t1 SELECT window_start, user, count(*) AS n FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user"}
            """);
        // One key fits: committed, with the state's size in the status.
        await Post("streams/clicks", """{"user": "a", "ts": "2026-01-01T00:00:01"}""");
        await Post("api/v1/pipelines/p1/flush", "");
        var fits = JsonDocument.Parse(await host.Client.GetStringAsync("api/v1/pipelines/p1")).RootElement;
        Assert.InRange(fits.GetProperty("stateful")[0].GetProperty("last_checkpoint").GetProperty("bytes").GetInt64(), 1, 2_000);

        // A thousand open keys do not: the commit is refused, the sink stays at its one commit, and the status says why.
        await Post("streams/clicks", string.Concat(Enumerable.Range(0, 1000).Select(i => $$"""{"user": "user-{{i}}", "ts": "2026-01-01T00:00:02"}""" + "\n")));
        using var flush = await host.Client.PostAsync("api/v1/pipelines/p1/flush", null);
        Assert.False(flush.IsSuccessStatusCode);
        var status = JsonDocument.Parse(await host.Client.GetStringAsync("api/v1/pipelines/p1")).RootElement;
        var error = status.GetProperty("errors")[0].GetProperty("message").GetString();
        Assert.Contains("INSERT INTO t1 (table default.budget) holds", error);
        Assert.Contains("over the budget of 2,000 (setting Pipelines:MaxStateBytes, environment DATAPLANE_PIPELINES__MAXSTATEBYTES)", error);
        Assert.Equal(1, status.GetProperty("offsets").GetProperty("committed").GetInt64());
    }

    /// <summary>The stream <c>clicks</c> of the spill test as the pipeline's SQL sees it.</summary>
    private static readonly Apache.Arrow.Schema ClicksSchema = new([new Apache.Arrow.Field("user", Apache.Arrow.Types.StringType.Default, true),
        new Apache.Arrow.Field("ts", new Apache.Arrow.Types.TimestampType(Apache.Arrow.Types.TimeUnit.Microsecond, (string?)null), true)], null);

    [Fact]
    public async Task Windows_spill_past_the_state_memory_budget_and_a_restart_with_another_shard_count_redistributes_their_keys()
    {
        string dir = Path.Combine(_dir, "spill");
        string spill = Path.Combine(dir, "pipelines", "state-spill");
        static async Task Post(PipelinesHost host, string path, string body, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var response = await host.Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected || (expected == HttpStatusCode.OK && response.IsSuccessStatusCode), $"{path}: {(int)response.StatusCode} {text}");
        }
        static string Clicks(int users, int second) =>
            string.Concat(Enumerable.Range(0, users).Select(i => $$"""{"user": "user-{{i}}", "ts": "2026-01-01T00:00:{{second:D2}}"}""" + "\n"));
        const string Sql = "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO t1 SELECT window_start, user, count(*) AS n FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user";

        var host = await PipelinesHost.StartAsync(dir, o => { o.StateMemoryBytes = 2_000; o.StateShards = 4; });
        try
        {
            await Post(host, "api/v1/streams", """{"name": "clicks", "schema": {"fields": [{"name": "user", "type": "string"}, {"name": "ts", "type": "timestamp"}]}}""");
            await Post(host, "api/v1/sinks", """{"name": "t1", "type": "iceberg", "namespace": "default", "table": "spilled", "rolling": {"interval_seconds": 3600}}""");
            await Post(host, "api/v1/pipelines", $$"""{"name": "p1", "parallelism": 0, "sql": "{{Sql}}"}""", HttpStatusCode.BadRequest);
            await Post(host, "api/v1/pipelines", $$"""{"name": "p1", "sql": "{{Sql}}"}""");
            // 200 keys twice in minute 0: far more than 2,000 bytes of groups, spilled to runs that the checkpoint merges.
            await Post(host, "streams/clicks", Clicks(200, 1) + Clicks(200, 2));
            await Post(host, "api/v1/pipelines/p1/flush", "");
            Assert.NotEmpty(Directory.EnumerateFiles(spill, "*.arrows", SearchOption.AllDirectories));
        }
        finally
        {
            await host.DisposeAsync();
        }
        // The stopped pipeline's runs went with its execution.
        Assert.Empty(Directory.EnumerateFiles(spill, "*", SearchOption.AllDirectories));

        // The checkpoint in the warehouse: a file per shard (four) and the main file, which read back into an execution of
        // the statement with one shard in memory give minute 0's 200 keys with their counts.
        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(dir, "warehouse", "default", "spilled", "checkpoints", "t1")));
        Assert.Equal(ExpectedFiles(4), FilesOf(folder));
        Assert.All(Enumerable.Range(0, 4), s => Assert.True(new FileInfo(Path.Combine(folder, PipelineCheckpoint.ShardFile(s))).Length > 500));
        var program = SqlTransforms.SqlProgram.Compile(Sql, new Dictionary<string, Apache.Arrow.Schema> { ["clicks"] = ClicksSchema }, SqlTransforms.SqlMode.Streaming);
        var counts = new List<long>();
        using (var execution = program.Start(0, b => counts.AddRange(((Apache.Arrow.Int64Array)b.Column(2)).Values.ToArray())))
        {
            using (var main = File.OpenRead(Path.Combine(folder, PipelineCheckpoint.MainFile)))
            {
                Assert.Equal([.. Enumerable.Range(0, 4).Select(s => new FileInfo(Path.Combine(folder, PipelineCheckpoint.ShardFile(s))).Length)],
                    CheckpointHeader.Read(main, CheckpointHeader.Fingerprint(Sql))!);
                Assert.Equal(4, execution.RestoreState(main));
            }
            for (int s = 0; s < 4; s++)
            {
                using var shard = File.OpenRead(Path.Combine(folder, PipelineCheckpoint.ShardFile(s)));
                execution.RestoreShard(shard);
            }
            execution.Finish();
        }
        Assert.Equal(200, counts.Count);
        Assert.All(counts, n => Assert.Equal(2, n));

        // Restarted with three shards: the checkpoint of four is redistributed, and minute 0 closes with one row per key.
        host = await PipelinesHost.StartAsync(dir, o => { o.StateMemoryBytes = 2_000; o.StateShards = 3; });
        try
        {
            await Post(host, "streams/clicks", Clicks(200, 30) + """{"user": "user-0", "ts": "2026-01-01T00:02:00"}""" + "\n");
            await Post(host, "api/v1/pipelines/p1/flush", "");
            var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(dir, "default.spilled"));
            Assert.Equal(["200|200|3|3"], TableContents.Rows(
                $"SELECT count(*), count(DISTINCT user), min(n), max(n) FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])"));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Expiry_deletes_the_checkpoints_only_expired_commits_named_and_keeps_the_last_which_orphan_removal_keeps_too()
    {
        for (int i = 0; i < 3; i++)
        {
            await IngestAsync((i * 2 + 1, "a", i * 20 + 1), (i * 2 + 2, "b", i * 20 + 2));
            await _table.FlushAsync("p1");
        }
        Assert.Equal(3, CheckpointFiles().Count);
        int files = ExpectedFiles(Environment.ProcessorCount).Count;
        using var outside = await _table.OutsideAsync();
        await outside.AppendAsync([5000]);

        var expired = await new ExpireSnapshots(outside.Table).RunAsync(new ExpireSnapshots.Options { OlderThan = DateTimeOffset.UtcNow.AddMinutes(10), RetainLast = 1 });
        Assert.Equal(2 * files, expired.Checkpoints);
        var last = CommitHistory.LastCommit(outside.Table.Metadata, "t1")!; // as the marker expiry left
        Assert.Null(outside.Table.Metadata.Snapshot(last.SnapshotId));
        var lastCheckpoint = outside.Table.KeyOf(last.Summary[CommitHistory.CheckpointKey]);
        Assert.Equal([Named(lastCheckpoint)], CheckpointFiles());
        Assert.Equal(ExpectedFiles(Environment.ProcessorCount), FilesOf(Path.Combine(CheckpointFolder, Named(lastCheckpoint))));

        // Orphan removal with no safety age at all: the checkpoint the marker names stays, every file of it.
        var orphans = await new RemoveOrphanFiles(outside.Table).RunAsync(new RemoveOrphanFiles.Options { OlderThan = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.DoesNotContain(orphans.Orphans, o => o.StartsWith(lastCheckpoint, StringComparison.Ordinal));
        Assert.Equal([Named(lastCheckpoint)], CheckpointFiles());
        Assert.Equal(ExpectedFiles(Environment.ProcessorCount), FilesOf(Path.Combine(CheckpointFolder, Named(lastCheckpoint))));

        // And the pipeline restores from it after a restart: minute 0 (ids 1 to 6) closes whole.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await IngestAsync((7, "a", 90));
        await _table.FlushAsync("p1");
        var minute0 = T0.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(TableContents.Sorted([$"a {minute0}|9", $"b {minute0}|12", "outside|5000"]), await RowsAsync("default.events", "user, id"));
    }

    [Fact]
    public async Task Clean_up_keeps_every_file_of_the_checkpoints_a_retained_snapshot_names_whichever_writer_and_a_tag_and_deletes_the_rest()
    {
        // A second writer with state into the same table: its own sink, statement and checkpoints.
        await _table.PostAsync("api/v1/sinks", """{"name": "t2", "type": "iceberg", "namespace": "default", "table": "events", "rolling": {"interval_seconds": 3600}}""",
            HttpStatusCode.Created);
        await _table.PostAsync("api/v1/pipelines", """
            {"name": "p2", "sql": "WATERMARK FOR clicks.ts AS ts - INTERVAL '10' SECOND; INSERT INTO t2 SELECT user || ' count' AS user, count(*) AS id FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user"}
            """, HttpStatusCode.Created);
        for (int i = 0; i < 3; i++)
        {
            await IngestAsync((i * 2 + 1, "a", i * 20 + 1), (i * 2 + 2, "b", i * 20 + 2));
            await _table.FlushAsync("p1");
            await _table.FlushAsync("p2");
        }
        using var outside = await _table.OutsideAsync();
        await outside.Table.RefreshAsync();
        var first = CommitHistory.History(outside.Table.Metadata, "t1").ToList(); // newest first
        var second = CommitHistory.History(outside.Table.Metadata, "t2").ToList();
        Assert.Equal(3, first.Count);
        Assert.Equal(3, second.Count);
        string PathOf(CommitHistory.WriterCommit commit) => Path.Combine(_dir, "warehouse", outside.Table.KeyOf(commit.Summary[CommitHistory.CheckpointKey]).TrimEnd('/'));
        var files = ExpectedFiles(Environment.ProcessorCount);
        Assert.All(first.Concat(second), c => Assert.Equal(files, FilesOf(PathOf(c))));

        // A tag keeps the first writer's oldest commit; expiry keeps each writer's last as a marker, and removes the rest.
        await outside.Table.CreateTagAsync("audit", first[^1].SnapshotId);
        await outside.AppendAsync([5000]);
        var expired = await new ExpireSnapshots(outside.Table).RunAsync(new ExpireSnapshots.Options { OlderThan = DateTimeOffset.UtcNow.AddMinutes(10), RetainLast = 1 });
        CommitHistory.WriterCommit[] kept = [first[0], first[2], second[0]];
        CommitHistory.WriterCommit[] gone = [first[1], second[1], second[2]];
        Assert.Equal(gone.Length * files.Count, expired.Checkpoints);
        Assert.All(kept, c => Assert.Equal(files, FilesOf(PathOf(c))));
        Assert.All(gone, c => Assert.False(Directory.Exists(PathOf(c)) && Directory.EnumerateFiles(PathOf(c)).Any(), $"{PathOf(c)} is left"));

        // Orphan removal with no safety age at all: every file of the kept checkpoints stays.
        var orphans = await new RemoveOrphanFiles(outside.Table).RunAsync(new RemoveOrphanFiles.Options { OlderThan = DateTimeOffset.UtcNow.AddDays(1) });
        Assert.DoesNotContain(orphans.Orphans, o => o.Contains("/checkpoints/", StringComparison.Ordinal));
        Assert.All(kept, c => Assert.Equal(files, FilesOf(PathOf(c))));

        // Both restore after a restart (whose clean-up of their journals keeps the committed files), and minute 0 closes whole.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        await _table.WaitRunningAsync("p2");
        Assert.True((await StatusAsync()).GetProperty("stateful")[0].GetProperty("last_checkpoint").GetProperty("restored").GetBoolean());
        await IngestAsync((7, "a", 90));
        await _table.FlushAsync("p1");
        await _table.FlushAsync("p2");
        var minute0 = T0.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(TableContents.Sorted([$"a {minute0}|9", $"b {minute0}|12", "a count|3", "b count|3", "outside|5000"]), await RowsAsync("default.events", "user, id"));
        Assert.All(kept.Take(2), c => Assert.Equal(files, FilesOf(PathOf(c))));
    }
}
