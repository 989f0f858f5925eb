using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Tests.EndToEnd;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// Pipelines run the SQL engine's compiled plans: several INSERT INTO statements (each sink with its own offsets and
/// commits), records the statements fail on counted and sent to a dead-letter sink, outputs checked against the tables
/// they write, and the validate call.
/// </summary>
public sealed class SqlPipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-sql-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private HttpClient Http => _host.Client;
    private string Warehouse => Path.Combine(_dir, "warehouse");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        var response = await Http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    private Task CreateStreamAsync() => PostAsync("api/v1/streams", """
        {"name": "events", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true},
          {"name": "user", "type": "string"},
          {"name": "tags", "type": {"type": "list", "element": "string"}},
          {"name": "code", "type": "string"},
          {"name": "n", "type": "int"}]}}
        """, HttpStatusCode.Created);

    /// <summary>Record i: user u{i % 7}, tags [t{i % 3}, x] (none for i % 5 == 4), code "i" or "bad{i}" for i % 10 == 3, n = i.</summary>
    private static string Records(int from, int count) => string.Join("\n", Enumerable.Range(from, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture,
            $$"""{"id": {{i}}, "user": "u{{i % 7}}", "tags": {{(i % 5 == 4 ? "[]" : $"[\"t{i % 3}\", \"x\"]")}}, "code": "{{(i % 10 == 3 ? "bad" : "")}}{{i}}", "n": {{i}}}""")));

    private async Task<JsonElement> StatusAsync(string pipeline) =>
        JsonDocument.Parse(await Http.GetStringAsync($"api/v1/pipelines/{pipeline}")).RootElement;

    /// <summary>The rows of the files a file sink's commits name, read by DuckDB, each row's columns joined by '|', sorted.</summary>
    private List<string> Committed(string path, string select, bool ndjson = false)
    {
        var files = new List<string>();
        var commits = Path.Combine(Warehouse, path, "_dataplane", "commits");
        if (Directory.Exists(commits))
            foreach (var commit in Directory.GetFiles(commits, "*.json"))
                foreach (var f in JsonDocument.Parse(File.ReadAllText(commit)).RootElement.GetProperty("files").EnumerateArray())
                    files.Add(Path.Combine(Warehouse, f.GetProperty("key").GetString()!));
        if (files.Count == 0)
            return [];
        var list = string.Join(", ", files.Select(f => $"'{f}'"));
        return TableContents.Rows($"SELECT {select} FROM {(ndjson ? $"read_json_auto([{list}])" : $"read_parquet([{list}])")}");
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Two_statements_fan_out_to_two_sinks_each_resuming_from_its_own_last_commit()
    {
        await CreateStreamAsync();
        // "evens" commits every 10 rows; "tags" only on a flush.
        await PostAsync("api/v1/sinks", """{"name": "evens", "type": "files", "path": "raw/evens", "rolling": {"max_rows": 10}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "tags", "type": "files", "path": "raw/tags", "rolling": {"interval_seconds": 3600}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """
            {"name": "fan_out", "sql": "INSERT INTO evens SELECT id, upper(user) AS who FROM events WHERE id % 2 = 0;\nINSERT INTO tags SELECT id, UNNEST(tags) AS tag FROM events"}
            """, HttpStatusCode.Created);
        for (int i = 0; i < 5; i++)
            await PostAsync("streams/events", Records(i * 20, 20), HttpStatusCode.OK);

        // The first sink commits as it goes, the second holds everything: two offsets in one pipeline.
        await PollAsync(async () => (await StatusAsync("fan_out")).GetProperty("sinks")[0].GetProperty("committed_offset").GetInt64() == 100, "evens to commit offset 100");
        var status = await StatusAsync("fan_out");
        Assert.Equal(["evens", "tags"], status.GetProperty("sinks").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(0, status.GetProperty("sinks")[1].GetProperty("committed_offset").GetInt64());
        Assert.Equal(0, status.GetProperty("offsets").GetProperty("committed").GetInt64()); // the pipeline's is the least of its sinks'

        // A restart: "evens" resumes at 100, "tags" at 0, from the one log.
        await _host.DisposeAsync();
        _host = await PipelinesHost.StartAsync(_dir);
        await PostAsync("streams/events", Records(100, 20), HttpStatusCode.OK);
        var flushed = await PostAsync("api/v1/pipelines/fan_out/flush", "", HttpStatusCode.OK);
        Assert.Equal(120, flushed.GetProperty("committed_offset").GetInt64());
        Assert.All(flushed.GetProperty("sinks").EnumerateArray(), s => Assert.Equal(120, s.GetProperty("committed_offset").GetInt64()));

        var ids = Enumerable.Range(0, 120);
        Assert.Equal(TableContents.Sorted(ids.Where(i => i % 2 == 0).Select(i => $"{i}|U{i % 7}")), Committed("raw/evens", "id, who"));
        Assert.Equal(TableContents.Sorted(ids.Where(i => i % 5 != 4).SelectMany(i => new[] { $"{i}|t{i % 3}", $"{i}|x" })), Committed("raw/tags", "id, tag"));
    }

    [Fact]
    public async Task A_schemaless_streams_records_are_read_by_the_json_functions_and_operators()
    {
        await PostAsync("api/v1/streams", """{"name": "raw"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "orders", "type": "files", "path": "raw/orders"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """
            {"name": "extract", "sql": "INSERT INTO orders SELECT json_get_int(value, 'id') AS id, value ->> 'user' AS who, CAST(value -> 'cart' -> 'total' AS DOUBLE) AS total, json_length(value, 'cart', 'items') AS items, value -> 'cart' -> 'items' -> 0 ->> 'sku' AS first_sku FROM raw WHERE json_get_str(value, 'kind') = 'order'"}
            """, HttpStatusCode.Created);
        // Record i: a view for i % 3 == 0, else an order; no user for i % 4 == 1; no cart for i % 10 == 7, else a total
        // of i + 0.5 (as a string for i % 5 == 2, which the CAST of json_get reads as json_get_float does) and i % 4 items.
        string record(int i)
        {
            string user = i % 4 == 1 ? "" : $", \"user\": \"u{i % 7}\"";
            string total = i % 5 == 2 ? $"\"{i}.5\"" : $"{i}.5";
            string items = string.Join(", ", Enumerable.Range(0, i % 4).Select(k => $"{{\"sku\": \"s{i}-{k}\", \"qty\": {k}}}"));
            string cart = i % 10 == 7 ? "" : $", \"cart\": {{\"total\": {total}, \"items\": [{items}]}}";
            return $"{{\"kind\": \"{(i % 3 == 0 ? "view" : "order")}\", \"id\": {i}{user}{cart}}}";
        }
        await PostAsync("streams/raw", string.Join("\n", Enumerable.Range(0, 90).Select(record)), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/extract/flush", "", HttpStatusCode.OK);

        var expected = Enumerable.Range(0, 90).Where(i => i % 3 != 0).Select(i => string.Join("|",
            i.ToString(CultureInfo.InvariantCulture),
            i % 4 == 1 ? "NULL" : $"u{i % 7}",
            i % 10 == 7 ? "NULL" : (i + 0.5).ToString(CultureInfo.InvariantCulture),
            i % 10 == 7 ? "NULL" : (i % 4).ToString(CultureInfo.InvariantCulture),
            i % 10 == 7 || i % 4 == 0 ? "NULL" : $"s{i}-0"));
        Assert.Equal(TableContents.Sorted(expected), Committed("raw/orders", "id, who, total, items, first_sku"));
        Assert.Equal(0, (await StatusAsync("extract")).GetProperty("dropped").GetProperty("records").GetInt64());
    }

    [Fact]
    public async Task Records_a_statement_fails_on_are_counted_per_reason_and_land_in_the_dead_letter_sink()
    {
        await CreateStreamAsync();
        await PostAsync("api/v1/sinks", """{"name": "codes", "type": "files", "path": "raw/codes"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "failed", "type": "files", "path": "raw/failed"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """
            {"name": "codes_pipeline", "sql": "INSERT INTO codes SELECT id, CAST(code AS INTEGER) AS code, 100 // (n % 4) AS q FROM events", "dead_letter": "failed"}
            """, HttpStatusCode.Created);
        for (int i = 0; i < 4; i++)
            await PostAsync("streams/events", Records(i * 50, 50), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/codes_pipeline/flush", "", HttpStatusCode.OK);

        // A bad code fails the CAST; n % 4 = 0 divides by zero. A record is dropped for its first failure.
        var ids = Enumerable.Range(0, 200).ToList();
        bool badCast(int i) => i % 10 == 3;
        bool byZero(int i) => i % 4 == 0;
        Assert.Equal(TableContents.Sorted(ids.Where(i => !badCast(i) && !byZero(i)).Select(i => $"{i}|{i}|{100 / (i % 4)}")), Committed("raw/codes", "id, code, q"));
        var expectedFailures = ids.Where(i => badCast(i) || byZero(i)).ToList();
        var deadLetters = Committed("raw/failed", "\"offset\", pipeline, sink, reason, stream, record::JSON->>'code', (record::JSON->>'id')::BIGINT");
        Assert.Equal(TableContents.Sorted(expectedFailures.Select(i =>
                $"{i}|codes_pipeline|codes|{(badCast(i) ? "invalid_cast" : "division_by_zero")}|events|{(badCast(i) ? "bad" : "")}{i}|{i}")),
            deadLetters);

        var status = await StatusAsync("codes_pipeline");
        Assert.Equal("failed", status.GetProperty("dead_letter").GetString());
        var dropped = status.GetProperty("dropped");
        Assert.Equal(expectedFailures.Count, dropped.GetProperty("records").GetInt64());
        var reasons = dropped.GetProperty("reasons").EnumerateArray().ToDictionary(r => r.GetProperty("reason").GetString()!);
        Assert.Equal(ids.Count(i => byZero(i)), reasons["division_by_zero"].GetProperty("records").GetInt64());
        Assert.Equal(ids.Count(i => badCast(i) && !byZero(i)), reasons["invalid_cast"].GetProperty("records").GetInt64());
        Assert.Contains(reasons["invalid_cast"].GetProperty("samples").EnumerateArray(), s => s.GetString()!.Contains("bad", StringComparison.Ordinal));
        Assert.All(reasons.Values, r => Assert.Equal("codes", r.GetProperty("sink").GetString()));
        var metrics = await Http.GetStringAsync("metrics");
        Assert.Contains($"dataplane_pipeline_records_dropped_total{{otel_scope_name=\"DataPlane.Pipelines\",pipeline=\"codes_pipeline\",reason=\"invalid_cast\",sink=\"codes\"}} {ids.Count(i => badCast(i) && !byZero(i))}", metrics);
        Assert.Contains($"dataplane_pipeline_records_dropped_total{{otel_scope_name=\"DataPlane.Pipelines\",pipeline=\"codes_pipeline\",reason=\"division_by_zero\",sink=\"codes\"}} {ids.Count(i => byZero(i))}", metrics);

        // The dead-letter sink is the pipeline's: no other pipeline may write it, nor may it be deleted under it.
        Assert.Equal(HttpStatusCode.Conflict, (await Http.DeleteAsync("api/v1/sinks/failed")).StatusCode);
    }

    [Fact]
    public async Task An_existing_tables_schema_takes_outputs_of_its_types_or_their_promotions_and_refuses_others_naming_the_column()
    {
        await CreateStreamAsync();
        await PostAsync("api/v1/sinks", """{"name": "totals", "type": "iceberg", "namespace": "shop", "table": "totals"}""", HttpStatusCode.Created);
        // The first pipeline creates the table from its output: id long, name string, amount long.
        await PostAsync("api/v1/pipelines", """{"name": "first", "sql": "INSERT INTO totals SELECT id, user AS name, CAST(n AS BIGINT) AS amount FROM events"}""", HttpStatusCode.Created);
        await PostAsync("streams/events", Records(0, 10), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/first/flush", "", HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("api/v1/pipelines/first")).StatusCode);

        async Task Refused(string select, string reason)
        {
            var error = await PostAsync("api/v1/pipelines", $$"""{"name": "second", "sql": "INSERT INTO totals {{select}} FROM events"}""", HttpStatusCode.BadRequest);
            Assert.Contains(reason, error.GetProperty("error").GetString());
        }
        await Refused("SELECT user AS id, user AS name, CAST(n AS BIGINT) AS amount", "INSERT INTO totals (table shop.totals): the output column 'id' is string and the table's is long");
        await Refused("SELECT id, user AS nom, CAST(n AS BIGINT) AS amount", "the output column 'nom' is not a column of the table");
        await Refused("SELECT id, user AS name", "the table's column 'amount' (long) is not in the output");
        await Refused("SELECT id, user AS name, CAST(n AS DOUBLE) AS amount", "the output column 'amount' is double and the table's is long");

        // int to long is a promotion Iceberg allows: the pipeline writes n (an int) into amount (a long).
        await PostAsync("api/v1/pipelines", """{"name": "second", "sql": "INSERT INTO totals SELECT n AS amount, id, upper(user) AS name FROM events WHERE id >= 10"}""", HttpStatusCode.Created);
        await PostAsync("streams/events", Records(10, 10), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/second/flush", "", HttpStatusCode.OK);

        var table = await TableContents.LoadAsync(_dir, "shop.totals");
        var files = await TableContents.LiveFilesAsync(table);
        var list = string.Join(", ", files.Select(f => $"'{f}'"));
        Assert.Equal(TableContents.Sorted(Enumerable.Range(0, 20).Select(i => $"{i}|{(i < 10 ? "u" : "U")}{i % 7}|{i}|BIGINT")),
            TableContents.Rows($"SELECT id, name, amount, typeof(amount) FROM read_parquet([{list}])"));
    }

    [Fact]
    public async Task Validate_answers_each_statements_schema_and_plan_graph_or_the_error_with_its_line_and_column()
    {
        await CreateStreamAsync();
        var valid = await PostAsync("api/v1/pipelines/validate", """
            {"sql": "INSERT INTO a SELECT id, upper(user) AS who FROM events WHERE n > 3;\nINSERT INTO b SELECT id, UNNEST(tags) AS tag FROM events"}
            """, HttpStatusCode.OK);
        Assert.Equal("events", valid.GetProperty("stream").GetString());
        var statements = valid.GetProperty("statements").EnumerateArray().ToList();
        Assert.Equal(["a", "b"], statements.Select(s => s.GetProperty("sink").GetString()));
        Assert.Equal(["id long True", "who string False"], statements[0].GetProperty("schema").EnumerateArray()
            .Select(f => $"{f.GetProperty("name").GetString()} {f.GetProperty("type").GetString()} {f.GetProperty("required").GetBoolean()}"));
        Assert.Equal(["id", "tag"], statements[1].GetProperty("schema").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        var plan = statements[0].GetProperty("plan");
        var nodes = plan.GetProperty("nodes").EnumerateArray().Select(n => (Id: n.GetProperty("id").GetInt32(), Op: n.GetProperty("operator").GetString(), Detail: n.GetProperty("detail").GetString()!)).ToList();
        Assert.Equal(["Sink", "Project", "Filter", "Scan"], nodes.Select(n => n.Op));
        Assert.Equal("a", nodes[0].Detail);
        Assert.Contains("upper", nodes[1].Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("n > 3", nodes[2].Detail);
        // Records flow from the scan up to the sink: every node but the sink feeds exactly one other.
        var edges = plan.GetProperty("edges").EnumerateArray().Select(e => (e.GetProperty("from").GetInt32(), e.GetProperty("to").GetInt32())).ToList();
        Assert.Equal([(1, 0), (2, 1), (3, 2)], edges.OrderBy(e => e.Item1));
        Assert.Contains("Unnest", statements[1].GetProperty("plan").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("operator").GetString()));
        Assert.Equal("Project id AS id, upper(user) AS who\n  Filter (n > 3)\n    Scan events [id, user, n]\n", statements[0].GetProperty("explain").GetString());

        // A preview runs the statements over the stream's most recent records: the last 6 of one request of 20 (a log
        // batch's tail), with what they drop.
        await PostAsync("streams/events", Records(0, 20), HttpStatusCode.OK);
        var previewed = await PostAsync("api/v1/pipelines/validate", """
            {"sql": "INSERT INTO a SELECT id, upper(user) AS who, CAST(code AS INTEGER) AS c FROM events WHERE id % 2 = 0; INSERT INTO b SELECT id, UNNEST(tags) AS tag FROM events", "preview": 6}
            """, HttpStatusCode.OK);
        var preview = previewed.GetProperty("statements").EnumerateArray().Select(st => st.GetProperty("preview").EnumerateArray().Select(r => r.GetRawText()).ToList()).ToList();
        Assert.Equal(["""{"id":14,"who":"U0","c":14}""", """{"id":16,"who":"U2","c":16}""", """{"id":18,"who":"U4","c":18}"""], preview[0]);
        Assert.Equal(Enumerable.Range(14, 6).Where(i => i % 5 != 4).SelectMany(i => new[] { $$"""{"id":{{i}},"tag":"t{{i % 3}}"}""", $$"""{"id":{{i}},"tag":"x"}""" }), preview[1]);
        Assert.Equal(6, previewed.GetProperty("preview").GetProperty("records").GetInt64());
        Assert.Empty(previewed.GetProperty("preview").GetProperty("dropped").EnumerateArray());
        var failing = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT id, CAST(code AS INTEGER) AS c FROM events", "preview": 100}""", HttpStatusCode.OK);
        Assert.Equal(18, failing.GetProperty("statements")[0].GetProperty("preview").GetArrayLength()); // codes bad3 and bad13 do not convert
        var cast = Assert.Single(failing.GetProperty("preview").GetProperty("dropped").EnumerateArray());
        Assert.Equal(("invalid_cast", 2), (cast.GetProperty("reason").GetString(), cast.GetProperty("records").GetInt64()));
        Assert.Contains("'bad", cast.GetProperty("samples")[0].GetString());
        var tooMany = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT id FROM events", "preview": 101}""", HttpStatusCode.BadRequest);
        Assert.Contains("a whole number from 1 to 100 (got 101)", tooMany.GetProperty("error").GetString());

        var error = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT id\nFROM events WHERE nme = 'x'"}""", HttpStatusCode.BadRequest);
        Assert.Equal(2, error.GetProperty("line").GetInt32());
        Assert.Equal(19, error.GetProperty("column").GetInt32());
        Assert.Contains("there is no column \"nme\"", error.GetProperty("error").GetString());
        var aggregate = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT count(*) FROM events"}""", HttpStatusCode.BadRequest);
        Assert.Contains("aggregation over a stream needs a window", aggregate.GetProperty("error").GetString());
        // GROUP BY keys without a window: an updating aggregate, one row per key, the keys the table's identifier fields.
        var updating = (await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT user, count(*) AS n FROM events GROUP BY user"}""", HttpStatusCode.OK))
            .GetProperty("statements")[0];
        Assert.Equal(["user"], updating.GetProperty("identifier_fields").EnumerateArray().Select(k => k.GetString()));
        Assert.Contains(updating.GetProperty("plan").GetProperty("nodes").EnumerateArray(), n => n.GetProperty("operator").GetString() == "UpdatingAggregate"
            && n.GetProperty("detail").GetString()!.StartsWith("keys [user]", StringComparison.Ordinal));
        Assert.Contains(updating.GetProperty("schema").EnumerateArray(), f => f.GetProperty("name").GetString() == "user" && f.GetProperty("required").GetBoolean());
        // Windows run in pipelines (their state is checkpointed with each commit): the plan shows the window.
        var window = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT window_start, count(*) AS n FROM events GROUP BY tumble(INTERVAL '1' MINUTE)"}""", HttpStatusCode.OK);
        Assert.Contains("tumble", window.GetProperty("statements")[0].GetProperty("explain").GetString());
        // The operators that keep state, each with its node in the plan and the keys it keeps state per; none in a stateless statement.
        Assert.Empty(statements[0].GetProperty("stateful").EnumerateArray());
        var keyed = (await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT window_start, user, count(*) AS n FROM events GROUP BY tumble(INTERVAL '1' MINUTE), user"}""", HttpStatusCode.OK))
            .GetProperty("statements")[0];
        var stateful = Assert.Single(keyed.GetProperty("stateful").EnumerateArray());
        Assert.Equal(("WindowAggregate", "tumble(60s) over processing time count(*)"), (stateful.GetProperty("operator").GetString(), stateful.GetProperty("detail").GetString()));
        Assert.Equal(["user"], stateful.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("WindowAggregate", keyed.GetProperty("plan").GetProperty("nodes").EnumerateArray()
            .Single(n => n.GetProperty("id").GetInt32() == stateful.GetProperty("node").GetInt32()).GetProperty("operator").GetString());
        var perKey = Assert.Single(updating.GetProperty("stateful").EnumerateArray());
        Assert.Equal(("UpdatingAggregate", "user"), (perKey.GetProperty("operator").GetString(), perKey.GetProperty("keys")[0].GetString()));
        var missing = await PostAsync("api/v1/pipelines/validate", """{"sql": "INSERT INTO a SELECT * FROM nowhere"}""", HttpStatusCode.NotFound);
        Assert.Contains("No stream named 'nowhere'", missing.GetProperty("error").GetString());
        // The same refusals when a pipeline is created, with the line and column too.
        var created = await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO a SELECT count(*) FROM events"}""", HttpStatusCode.BadRequest);
        Assert.Equal(1, created.GetProperty("line").GetInt32());
        Assert.Contains("aggregation over a stream needs a window", created.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Fixed_and_uuid_columns_pass_through_select_star_with_their_iceberg_types()
    {
        await PostAsync("api/v1/streams", """
            {"name": "keys", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true}, {"name": "f4", "type": "fixed[4]"},
              {"name": "f16", "type": "fixed[16]"}, {"name": "u", "type": "uuid"}]}}
            """, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "keys_table", "type": "iceberg", "namespace": "k", "table": "keys"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """{"name": "keys_pipeline", "sql": "INSERT INTO keys_table SELECT * FROM keys WHERE f4 IS NOT NULL"}""", HttpStatusCode.Created);
        await PostAsync("streams/keys", """
            {"id": 1, "f4": "AQIDBA==", "f16": "AAECAwQFBgcICQoLDA0ODw==", "u": "0b2a6f3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"}
            {"id": 2, "f4": null, "f16": null, "u": null}
            """, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/keys_pipeline/flush", "", HttpStatusCode.OK);

        // FIXED has no operations but IS NULL and passing through: anything else is a 400 naming it, never a failure of the server.
        foreach (var expression in new[] { "f4 = f4", "f4 = 'x'", "CAST(f4 AS VARCHAR)", "f4::BLOB", "length(f4)", "f4 IS DISTINCT FROM f4",
            "f4 IN (f4)", "f4 < f16", "f4 || f4", "upper(f4)" })
        {
            var error = await PostAsync("api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql = $"INSERT INTO x SELECT {expression} AS v FROM keys" }), HttpStatusCode.BadRequest);
            Assert.True(error.GetProperty("error").GetString()!.Contains("FIXED(", StringComparison.Ordinal), $"{expression}: {error}");
        }
        foreach (var expression in new[] { "coalesce(f4, f4)", "CASE WHEN id > 0 THEN f4 END", "f4", "[f4]" })
            await PostAsync("api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql = $"INSERT INTO x SELECT {expression} AS v FROM keys" }), HttpStatusCode.OK);

        var table = await TableContents.LoadAsync(_dir, "k.keys");
        // A stream's fixed[16] stays fixed[16] (not a uuid): the table takes the stream's types.
        Assert.Equal(["id long", "f4 fixed[4]", "f16 fixed[16]", "u uuid"], table.Schema.Columns.Select(c => $"{c.Name} {c.Type}"));
        var files = await TableContents.LiveFilesAsync(table);
        Assert.Equal(["1|0x01020304|0x000102030405060708090A0B0C0D0E0F|0b2a6f3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"],
            TableContents.Rows($"SELECT id, '0x' || hex(f4), '0x' || hex(f16), u::VARCHAR FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])"));
    }

    [Fact]
    public async Task Statements_of_the_older_pipeline_SQL_keep_their_meaning()
    {
        // The older SQL took any name its few keywords did not take (end, offset, left...), compared timestamps and dates
        // with ISO text (offsets converted to UTC), and numbers across int, long and double.
        await PostAsync("api/v1/streams", """
            {"name": "legacy", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true}, {"name": "end", "type": "string"}, {"name": "offset", "type": "long"},
              {"name": "left", "type": "string"}, {"name": "ts", "type": "timestamptz"}, {"name": "t", "type": "timestamp"},
              {"name": "d", "type": "date"}, {"name": "score", "type": "double"}, {"name": "n", "type": "int"},
              {"name": "ok", "type": "boolean"}, {"name": "User", "type": "string"}]}}
            """, HttpStatusCode.Created);
        var statements = new (string Sql, string Select, int[] Ids)[]
        {
            ("insert into {0} select * from legacy;", "id", [.. Enumerable.Range(0, 10)]),
            ("INSERT INTO {0} SELECT id, end, offset AS o FROM legacy WHERE end = 'e1' AND offset > 30", "id, \"end\", o", [4, 7]),
            ("INSERT INTO {0} SELECT id FROM legacy WHERE ts >= '2024-01-01T03:00:00Z' AND ts < '2024-01-01 08:00:00+02:00'", "id", [3, 4, 5]),
            ("INSERT INTO {0} SELECT id FROM legacy WHERE t > '2024-01-01T05:00:00Z' OR d = '2024-01-02'", "id", [1, 6, 7, 8, 9]),
            ("INSERT INTO {0} SELECT id FROM legacy WHERE score < -1.5 AND n != 3 AND ok = true AND left <> 'b'", "id", [0, 2]),
            ("INSERT INTO {0} SELECT \"User\" AS who, id FROM legacy WHERE NOT (\"User\" IS NULL OR id = 1) AND score > -1e1", "id", [2, 3, 5, 6, 7, 9]),
            ("INSERT INTO {0} SELECT id FROM legacy WHERE n > 2.5 AND n <= 4 OR id = 9", "id", [3, 4, 9]),
            ("INSERT INTO {0} SELECT id FROM legacy WHERE d > '2024-01-05T10:00:00Z' AND d <= '2024-01-09'", "id", [5, 6, 7, 8]),
        };
        for (int i = 0; i < statements.Length; i++)
        {
            await PostAsync("api/v1/sinks", $$"""{"name": "s{{i}}", "type": "files", "path": "raw/s{{i}}"}""", HttpStatusCode.Created);
            await PostAsync("api/v1/pipelines", JsonSerializer.Serialize(new { name = $"p{i}", sql = string.Format(CultureInfo.InvariantCulture, statements[i].Sql, $"s{i}") }), HttpStatusCode.Created);
        }
        await PostAsync("streams/legacy", string.Join("\n", Enumerable.Range(0, 10).Select(i => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = i, ["end"] = $"e{i % 3}", ["offset"] = i * 10, ["left"] = i % 2 == 0 ? "a" : "b",
            ["ts"] = new DateTime(2024, 1, 1, i, 0, 0, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["t"] = new DateTime(2024, 1, 1, i, 0, 0).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
            ["d"] = new DateTime(2024, 1, 1 + i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["score"] = i - 5.5, ["n"] = i, ["ok"] = i % 2 == 0, ["User"] = i % 4 == 0 ? null : $"U{i}",
        }))), HttpStatusCode.OK);
        for (int i = 0; i < statements.Length; i++)
        {
            await PostAsync($"api/v1/pipelines/p{i}/flush", "", HttpStatusCode.OK);
            var expected = statements[i].Ids.Select(id => statements[i].Select == "id" ? $"{id}" : $"{id}|e{id % 3}|{id * 10}");
            Assert.Equal(TableContents.Sorted(expected), Committed($"raw/s{i}", statements[i].Select));
        }
    }

    [Theory]
    [InlineData(1_001, 0, "more than 1000 conditions")]
    [InlineData(1, 33, "nested more than 32 levels")]
    [InlineData(20_000, 0, "the limit is 65536 characters")]
    public async Task SQL_past_the_limits_is_refused_naming_the_limit(int terms, int depth, string expected)
    {
        await CreateStreamAsync();
        await PostAsync("api/v1/sinks", """{"name": "out", "type": "files", "path": "raw/out"}""", HttpStatusCode.Created);
        var where = new string('(', depth) + string.Join(" OR ", Enumerable.Range(0, terms).Select(i => $"id = {i}")) + new string(')', depth);
        var body = JsonSerializer.Serialize(new { name = "p", sql = "INSERT INTO out SELECT * FROM events WHERE " + where });
        var error = await PostAsync("api/v1/pipelines", body, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error.GetProperty("error").GetString());
        // A thousand conditions (the old pipeline SQL's limit too) are fine.
        var thousand = JsonSerializer.Serialize(new { name = "p", sql = "INSERT INTO out SELECT * FROM events WHERE " + string.Join(" OR ", Enumerable.Range(0, 1_000).Select(i => $"id = {i}")) });
        await PostAsync("api/v1/pipelines", thousand, HttpStatusCode.Created);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
