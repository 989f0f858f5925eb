using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Pipelines.Tests.Sinks;
using DataPlane.TestServices.Readers;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// A pipeline whose SQL is GROUP BY keys without a window keeps one row per key in its table: the keys are the
/// table's identifier fields, and each commit is one snapshot of the changed keys' rows and an equality delete file on
/// the keys. After every commit, DuckDB over the snapshot's data files minus its equality deletes (driven by the
/// manifests, <see cref="EqualityDeleteReads"/>) and icebird read exactly one row per key with the value DuckDB's
/// batch GROUP BY gives over the records so far; across a restart (the state comes back from the last commit's
/// checkpoint) and a compaction committed between two of the pipeline's commits.
/// </summary>
public sealed class UpdatingAggregatePipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-updating-").FullName;
    private SharedTable _host = null!;

    private const string Sql = "INSERT INTO totals SELECT user, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi, avg(amount) AS mean FROM orders GROUP BY user";

    public async Task InitializeAsync()
    {
        _host = await SharedTable.StartAsync(_dir);
        await _host.PostAsync("api/v1/streams", """
            {"name": "orders", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}, {"name": "amount", "type": "long"}]}}
            """, HttpStatusCode.Created);
        await _host.PostAsync("api/v1/sinks", """{"name": "totals", "type": "iceberg", "namespace": "default", "table": "totals", "rolling": {"interval_seconds": 3600}}""",
            HttpStatusCode.Created);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _files?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Record <c>id</c>: user <c>u(id*7 mod 6)</c>, none for every 11th (its record is dropped: a key is required), amount <c>(id*37 mod 101) - 20</c>.</summary>
    private static string Records(long first, int count)
    {
        var text = new StringBuilder();
        for (long id = first; id < first + count; id++)
            text.Append(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "user": {{(id % 11 == 0 ? "null" : $"\"u{id * 7 % 6}\"")}}, "amount": {{id * 37 % 101 - 20}}}""").Append('\n');
        return text.ToString();
    }

    /// <summary>DuckDB's batch GROUP BY over records 0 to <paramref name="count"/> - 1.</summary>
    private static List<string> Expected(long count) => TableContents.Rows($"""
        SELECT 'u' || (id * 7 % 6) AS user, count(*), sum(amount), min(amount), max(amount), CAST(round(avg(amount) * 1000000) AS BIGINT)
        FROM (SELECT range AS id, range * 37 % 101 - 20 AS amount FROM range(0, {count})) WHERE id % 11 <> 0 GROUP BY 1
        """);

    private const string Select = "SELECT user, n, total, lo, hi, CAST(round(mean * 1000000) AS BIGINT) FROM rows";

    private async Task<Table> TableAsync() => await TableContents.LoadAsync(_dir, "default.totals");

    /// <summary>What icebird reads of the current snapshot, as the same rows (the mean in millionths, as <see cref="Select"/> gives it).</summary>
    private async Task<List<string>> IcebirdAsync(Table table)
    {
        _files ??= new HttpFileServer(Path.Combine(_dir, "warehouse"));
        return await EqualityDeleteReads.IcebirdAsync(table, _files, "user", "n", "total", "lo", "hi", "mean");
    }

    private HttpFileServer? _files;

    [Fact]
    public async Task After_every_commit_readers_see_one_row_per_key_with_the_batch_group_by_value_across_a_restart_and_a_compaction()
    {
        await _host.PostAsync("api/v1/pipelines", JsonSerializer.Serialize(new { name = "p", sql = Sql }), HttpStatusCode.Created);
        long sent = 0;
        var commits = new List<long>();
        for (int round = 0; round < 6; round++)
        {
            int count = 40 + round * 17;
            await _host.PostAsync("streams/orders", Records(sent, count), HttpStatusCode.OK);
            sent += count;
            long snapshot = await _host.FlushAsync("p");
            commits.Add(snapshot);
            var table = await TableAsync();
            var expected = Expected(sent);
            Assert.Equal(6, expected.Count);
            Assert.Equal(expected, await EqualityDeleteReads.RowsAsync(table, snapshot, Select));
            Assert.Equal(expected, await IcebirdAsync(table));
            // One snapshot holds the new rows and the equality deletes of the same keys: a row delta, "overwrite".
            var summary = table.Metadata.Snapshot(snapshot)!.Summary;
            Assert.Equal("overwrite", summary["operation"]);
            Assert.Equal("6", summary["added-records"]);
            Assert.Equal("6", summary["added-equality-deletes"]);

            if (round == 2)
            {
                // The state comes back from the checkpoint the last commit names: counts go on, they do not start over.
                await _host.RestartAsync();
                await _host.WaitRunningAsync("p");
            }
            if (round == 3)
            {
                // Another writer between two commits: compaction rewrites the data files, applying the equality deletes.
                var (client, rest) = await TableContents.WriterThroughRestAsync(_host.Http.BaseAddress!, "default.totals", _host.Warehouse);
                using var restClient = client;
                var result = await new RewriteDataFiles(rest).RunAsync(new RewriteDataFiles.Options { MinInputFiles = 2 });
                Assert.NotEmpty(result.Snapshots);
                var compacted = await TableAsync();
                Assert.Equal(expected, await EqualityDeleteReads.RowsAsync(compacted, compacted.Metadata.CurrentSnapshotId!.Value, Select));
                Assert.Equal(expected, await IcebirdAsync(compacted));
            }
        }

        // The keys are the table's identifier fields, required; the records without a key were dropped and counted.
        var final = await TableAsync();
        var user = final.Schema.Columns.Single(c => c.Name == "user");
        Assert.True(user.Required);
        Assert.Equal([user.Id], final.Schema.IdentifierFieldIds);
        var status = JsonDocument.Parse(await _host.Http.GetStringAsync("api/v1/pipelines/p")).RootElement;
        var state = Assert.Single(status.GetProperty("stateful").EnumerateArray());
        Assert.Equal("updating aggregate keys [user]", state.GetProperty("operators")[0].GetProperty("operator").GetString());
        // Every older commit still reads as it did: the rows of its time, one per key.
        Assert.Equal(Expected(40), await EqualityDeleteReads.RowsAsync(final, commits[0], Select));
    }

    [Fact]
    public async Task An_existing_table_whose_key_column_is_optional_or_a_files_sink_is_refused_naming_it()
    {
        // An append-only pipeline creates default.totals with an optional "user".
        await _host.PostAsync("api/v1/pipelines", """{"name": "plain", "sql": "INSERT INTO totals SELECT user, id AS n FROM orders"}""", HttpStatusCode.Created);
        await _host.PostAsync("streams/orders", Records(1, 3), HttpStatusCode.OK);
        await _host.FlushAsync("plain");
        await _host.PostAsync("api/v1/sinks", """{"name": "keyed", "type": "iceberg", "namespace": "default", "table": "totals"}""", HttpStatusCode.Created);
        var refused = await _host.PostAsync("api/v1/pipelines",
            """{"name": "keyed", "sql": "INSERT INTO keyed SELECT user, count(*) AS n FROM orders GROUP BY user"}""", HttpStatusCode.BadRequest);
        Assert.Contains("the table's column 'user' (optional string) cannot be a key of an updating aggregate", refused.GetProperty("error").GetString());

        await _host.PostAsync("api/v1/sinks", """{"name": "folder", "type": "files", "path": "raw/folder"}""", HttpStatusCode.Created);
        var files = await _host.PostAsync("api/v1/pipelines",
            """{"name": "folder", "sql": "INSERT INTO folder SELECT user, count(*) AS n FROM orders GROUP BY user"}""", HttpStatusCode.BadRequest);
        Assert.Contains("needs an Iceberg sink", files.GetProperty("error").GetString());
    }
}
