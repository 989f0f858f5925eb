using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Scanning;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Storage;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// Two pipelines and an outside writer (the table library through the REST catalog of a real <c>dataplane serve</c>)
/// on one table, for <see cref="ActivitySeconds"/>, with kill -9 and graceful restarts of the server, pipeline
/// re-creations, appends (to main and to a branch), tags, copy-on-write and merge-on-read deletes and rollbacks at
/// random moments (a seeded <see cref="Random"/>; set DATAPLANE_TEST_SEED to replay a seed's choices). At the end
/// every snapshot in the metadata is read by DuckDB over its files, the current one also by icebird, and the current
/// one holds exactly the acknowledged records minus those deleted on purpose, once each: a rollback takes out the
/// outside writer's later appends and undoes its later deletes, while the pipelines deliver their rolled-back records
/// again from their logs.
/// </summary>
public sealed class MultiWriterRandomizedTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>How long the writers and the disruptions go on (CI runs it as is).</summary>
    private const int ActivitySeconds = 120;

    private const long FirstOutsideId = 3_000_000;
    private static readonly (string Stream, string Sink, string Pipeline, long FirstId)[] Pipelines =
        [("s1", "t1", "p1", 1_000_000), ("s2", "t2", "p2", 2_000_000)];

    private readonly string _dir = Directory.CreateTempSubdirectory("multi-writer-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();
    private readonly ConcurrentDictionary<long, bool> _acknowledged = new();
    private readonly ConcurrentDictionary<long, bool> _unknown = new(); // sent, but the answer was lost or not a 200
    private readonly List<(long Seq, long[] Ids)> _appends = []; // the outside writer's appends to main still in effect
    private readonly List<(long Seq, long From, long To)> _deletes = []; // its deletes still in effect: ids [From, To)
    private readonly Dictionary<string, int> _actions = [];
    private long _nextOutsideId = FirstOutsideId;

    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"]);

    [Fact]
    public async Task Two_pipelines_and_an_outside_writer_with_restarts_recreations_deletes_and_rollbacks_keep_every_snapshot_readable_and_every_record()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DATAPLANE_TEST_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (DATAPLANE_TEST_SEED={seed} replays its choices)");
        var random = new Random(seed);
        var server = await StartServerAsync();
        var serverOutput = new StringBuilder();
        bool failed = false;
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            foreach (var (stream, sink, pipeline, _) in Pipelines)
            {
                await PostAsync(http, "api/v1/streams", $$$"""{"name": "{{{stream}}}", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""");
                await PostAsync(http, "api/v1/sinks", $$$"""{"name": "{{{sink}}}", "type": "iceberg", "namespace": "default", "table": "events", "partition": ["bucket(4, id)"], "rolling": {"interval_seconds": 5}}""");
                await PostAsync(http, "api/v1/pipelines", $$"""{"name": "{{pipeline}}", "sql": "INSERT INTO {{sink}} SELECT * FROM {{stream}}"}""");
            }
            foreach (var (stream, _, pipeline, first) in Pipelines)
            {
                await IngestAsync(http, stream, [first]);
                _acknowledged[first] = true;
                await FlushAsync(http, pipeline);
            }
            using var warehouse = ObjectStore.Open(Path.Combine(_dir, "warehouse"));
            using var outside = await OutsideWriter.OpenAsync(server.BaseAddress, warehouse);
            await outside.Table.CreateBranchAsync("wap");

            using var stop = new CancellationTokenSource();
            var ingest = Pipelines.Select((p, i) => Task.Run(() => IngestLoopAsync(http, p.Stream, p.FirstId + 1, new Random(seed + 1 + i), stop.Token))).ToList();
            var deadline = DateTime.UtcNow.AddSeconds(ActivitySeconds);
            try
            {
                while (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(random.Next(200, 2500));
                    int roll = random.Next(100);
                    if (roll < 12)
                    {
                        bool kill = random.Next(2) == 0;
                        Count(kill ? "kill -9" : "graceful restart");
                        if (kill) await server.KillAsync();
                        else Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(60)));
                        serverOutput.Append(server.Output);
                        await server.DisposeAsync();
                        server = await StartServerAsync();
                        await RetryAsync(() => outside.Table.RefreshAsync()); // past connections the old process held
                    }
                    else if (roll < 24)
                    {
                        var (stream, sink, pipeline, _) = Pipelines[random.Next(Pipelines.Length)];
                        Count("re-create pipeline");
                        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/v1/pipelines/{pipeline}")).StatusCode);
                        await PostAsync(http, "api/v1/pipelines", $$"""{"name": "{{pipeline}}", "sql": "INSERT INTO {{sink}} SELECT * FROM {{stream}}"}""");
                    }
                    else if (roll < 44)
                        await AppendAsync(outside, random, SnapshotRef.MainBranch);
                    else if (roll < 50)
                        await AppendAsync(outside, random, "wap");
                    else if (roll < 54)
                    {
                        Count("tag");
                        await outside.Table.RefreshAsync();
                        await outside.Table.CreateTagAsync($"tag_{_actions["tag"]}");
                    }
                    else if (roll < 60)
                    {
                        var mode = random.Next(2) == 0 ? "merge-on-read" : "copy-on-write";
                        Count("set " + mode);
                        await outside.Table.RefreshAsync();
                        await outside.Table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = mode });
                    }
                    else if (roll < 88)
                        await DeleteAsync(outside, random);
                    else
                        await RollbackAsync(outside, random);
                }
            }
            finally
            {
                stop.Cancel();
                await Task.WhenAll(ingest);
            }

            // Every pipeline commits past everything acknowledged, delivering again what the last rollbacks took out.
            foreach (var (stream, _, pipeline, first) in Pipelines)
            {
                for (long marker = first + 900_000; ; marker++) // a new id each try: a lost answer may still have stored one
                {
                    try
                    {
                        await IngestAsync(http, stream, [marker]);
                        _acknowledged[marker] = true;
                        break;
                    }
                    catch (HttpRequestException) when (marker < first + 900_010)
                    {
                        _unknown[marker] = true;
                        await Task.Delay(500);
                    }
                }
                await RetryAsync(() => FlushAsync(http, pipeline));
            }

            var files = new HttpFileServer(Path.Combine(_dir, "warehouse"));
            try
            {
                await VerifyAsync(outside, new SnapshotReads(outside.Table, Path.Combine(_dir, "fetched"), files: files));
            }
            finally
            {
                files.Dispose();
            }
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            serverOutput.Append(server.Output);
            await server.DisposeAsync();
            var lines = serverOutput.ToString().Split('\n');
            output.WriteLine(string.Join(", ", _actions.OrderBy(a => a.Key).Select(a => $"{a.Key}: {a.Value}")));
            foreach (var kind in new[] { "removed", "commit refused", "kept", "not delivered again" })
                output.WriteLine($"server log lines with '{kind}': {lines.Count(l => l.Contains(kind, StringComparison.Ordinal))}");
            if (failed)
                output.WriteLine($"seed {seed}; the server's last log lines:\n{string.Join('\n', lines.TakeLast(80))}");
        }
    }

    private async Task VerifyAsync(OutsideWriter outside, SnapshotReads reads)
    {
        await outside.Table.RefreshAsync();
        var metadata = outside.Table.Metadata;
        var current = metadata.CurrentSnapshotId!.Value;
        var snapshots = await reads.EverySnapshotAsync(icebirdSnapshots: [current]);
        output.WriteLine($"{snapshots.Count} snapshots, every one read by DuckDB; {metadata.Refs.Count} refs; " +
            $"{_acknowledged.Count} acknowledged records, {_unknown.Count} unacknowledged, {_appends.Sum(a => a.Ids.Length)} outside rows in effect, {_deletes.Count} deletes in effect");

        var ids = snapshots[current];
        var present = ids.ToHashSet();
        Assert.True(ids.Count == present.Count, $"the current snapshot holds {ids.Count - present.Count} duplicate rows, e.g. {string.Join(", ", ids.GroupBy(i => i).Where(g => g.Count() > 1).Take(5).Select(g => g.Key))}");
        bool Deleted(long id) => _deletes.Any(d => d.From <= id && id < d.To);
        var missing = _acknowledged.Keys.Where(id => !Deleted(id) && !present.Contains(id)).Order().ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged records are missing from the current snapshot, e.g. {string.Join(", ", missing.Take(10))}");
        var undeleted = _acknowledged.Keys.Where(id => Deleted(id) && present.Contains(id)).Order().ToList();
        Assert.True(undeleted.Count == 0, $"{undeleted.Count} records deleted on purpose are back, e.g. {string.Join(", ", undeleted.Take(10))}");
        var outsideRows = _appends.SelectMany(a => a.Ids).ToHashSet();
        var outsideWrong = outsideRows.Where(id => present.Contains(id) == Deleted(id)).Order().ToList();
        Assert.True(outsideWrong.Count == 0, $"{outsideWrong.Count} outside rows are not as their appends and deletes left them, e.g. {string.Join(", ", outsideWrong.Take(10))}");
        var unexpected = present.Where(id => !_acknowledged.ContainsKey(id) && !_unknown.ContainsKey(id) && !outsideRows.Contains(id)).Order().ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} rows in the current snapshot were never written to main or were rolled back, e.g. {string.Join(", ", unexpected.Take(10))}");
    }

    private async Task IngestLoopAsync(HttpClient http, string stream, long firstId, Random random, CancellationToken stop)
    {
        long next = firstId;
        while (!stop.IsCancellationRequested)
        {
            var ids = Enumerable.Range(0, random.Next(1, 30)).Select(i => next + i).ToArray();
            next += ids.Length;
            bool ok = false;
            try
            {
                using var response = await http.PostAsync($"streams/{stream}", Ndjson(stream, ids));
                ok = response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            foreach (var id in ids)
                (ok ? _acknowledged : _unknown)[id] = true;
            await Task.Delay(ok ? random.Next(5, 40) : 100, CancellationToken.None);
        }
    }

    private async Task AppendAsync(OutsideWriter outside, Random random, string branch)
    {
        Count("append to " + branch);
        var ids = Enumerable.Range(0, random.Next(1, 20)).Select(i => _nextOutsideId + i).ToArray();
        _nextOutsideId += ids.Length;
        var snapshot = await outside.AppendAsync(ids, branch);
        if (branch == SnapshotRef.MainBranch)
            _appends.Add((snapshot.SequenceNumber, ids));
    }

    /// <summary>
    /// Deletes a run of ids of one writer that the current snapshot holds (read by DuckDB), once every acknowledged
    /// record in that run is there: the delete then removes exactly the run (records not yet committed are never in it).
    /// </summary>
    private async Task DeleteAsync(OutsideWriter outside, Random random)
    {
        await outside.Table.RefreshAsync();
        if (outside.Table.Metadata.CurrentSnapshotId is not { } current)
            return;
        var reads = new SnapshotReads(outside.Table, Path.Combine(_dir, "fetched"));
        long source = random.Next(3) + 1;
        var candidates = (await reads.DuckDbIdsAsync(current)).Where(id => id / 1_000_000 == source && id % 1_000_000 != 900_000).ToList();
        if (candidates.Count == 0)
            return;
        int start = random.Next(candidates.Count);
        long from = candidates[start], to = candidates[Math.Min(candidates.Count - 1, start + random.Next(0, 40))] + 1;
        var present = candidates.ToHashSet();
        bool inEffect(long id) => _appends.Any(a => a.Ids.Contains(id));
        for (long id = from; id < to; id++)
            if ((_acknowledged.ContainsKey(id) || inEffect(id)) && !_deletes.Any(d => d.From <= id && id < d.To) && !present.Contains(id))
            {
                Count("delete skipped (a record in range not committed yet)");
                return;
            }
        Count($"delete ({outside.Table.Metadata.Property("write.delete.mode", "copy-on-write")})");
        Snapshot snapshot;
        try
        {
            snapshot = await outside.Table.DeleteWhereAsync(Expression.And(Expression.GreaterThanOrEqual("id", from), Expression.LessThan("id", to)));
        }
        catch (CommitFailedException e) when (e.Message.Contains("removed by a concurrent commit", StringComparison.Ordinal))
        {
            // The server's own compaction rewrote a file the delete would rewrite or name in its position deletes (the
            // outside writer planned it on metadata read before): Iceberg's validation refuses the delete and nothing
            // changes, as a user's DELETE would be refused and run again.
            Count("delete refused (a concurrent compaction rewrote its files)");
            return;
        }
        _deletes.Add((snapshot.SequenceNumber, from, to));
    }

    /// <summary>Rolls main back 1 to 4 snapshots: the outside writer's appends and deletes after the target are undone.</summary>
    private async Task RollbackAsync(OutsideWriter outside, Random random)
    {
        await outside.Table.RefreshAsync();
        var metadata = outside.Table.Metadata;
        var ancestors = metadata.Ancestors(metadata.CurrentSnapshotId!.Value).Skip(1).Take(4).ToList();
        if (ancestors.Count == 0)
            return;
        var target = ancestors[random.Next(ancestors.Count)];
        Count("rollback");
        await outside.Table.RollbackToAsync(target.SnapshotId);
        _appends.RemoveAll(a => a.Seq > target.SequenceNumber);
        _deletes.RemoveAll(d => d.Seq > target.SequenceNumber);
    }

    private void Count(string action) => _actions[action] = _actions.GetValueOrDefault(action) + 1;

    private static StringContent Ndjson(string stream, IEnumerable<long> ids) =>
        new(string.Concat(ids.Select(id => string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "user": "{{stream}}"}""") + "\n")), Encoding.UTF8, "application/x-ndjson");

    private static async Task IngestAsync(HttpClient http, string stream, long[] ids)
    {
        using var response = await http.PostAsync($"streams/{stream}", Ndjson(stream, ids));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"ingest into {stream}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task FlushAsync(HttpClient http, string pipeline)
    {
        using var response = await http.PostAsync($"api/v1/pipelines/{pipeline}/flush", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"flush {pipeline}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Retries what a restart may interrupt (a stale connection, a run failing while the pipeline catches up), for up to 2 minutes.</summary>
    private static async Task RetryAsync(Func<Task> action)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
