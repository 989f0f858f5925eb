using System.Globalization;
using System.Net;
using System.Text;
using DataPlane.TestServices;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Tests.Commands;

/// <summary>
/// `dataplane sql run` runs a query over sample records (JSON or Parquet) and prints what DuckDB answers for the same
/// query over the same records; `dataplane sql explain` prints the plan against a schema file or a server's stream.
/// </summary>
public sealed class SqlCommandTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-sql-").FullName;

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var process = DataPlaneProcess.Start(args, _workDir);
        var exit = await process.WaitAsync(TimeSpan.FromMinutes(2));
        return (exit, process.Output);
    }

    private async Task<List<string>> RunOkAsync(params string[] args)
    {
        var (exit, output) = await RunAsync(args);
        Assert.True(exit == 0, $"dataplane {string.Join(' ', args)} exited {exit}:\n{output}");
        return Lines(output);
    }

    /// <summary>The process's lines, stdout and stderr in the order they came (the helper marks stderr's "ERR ").</summary>
    private static List<string> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Select(l => l.StartsWith("ERR ", StringComparison.Ordinal) ? l[4..] : l)];

    /// <summary>DuckDB's rows for <paramref name="sql"/>, each value cast to VARCHAR (NULL as NULL), joined by " | ".</summary>
    private static List<string> DuckRows(string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using (var utc = duck.CreateCommand())
        {
            // Timestamps with a zone print in UTC, as ours do.
            utc.CommandText = "SET TimeZone = 'UTC'";
            utc.ExecuteNonQuery();
        }
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetString(i))));
        return rows;
    }

    private string Records()
    {
        var path = Path.Combine(_workDir, "sample.ndjson");
        File.WriteAllText(path, string.Join("\n", Enumerable.Range(0, 40).Select(i => string.Create(CultureInfo.InvariantCulture,
            $$"""{"id": {{i}}, "name": {{(i % 9 == 0 ? "null" : $"\"n{i % 5}é\"")}}, "score": {{i * 0.25}}, "ts": "2024-03-0{{1 + i % 3}}T1{{i % 10}}:00:00Z", "tags": ["t{{i % 3}}", "x"], "code": "{{(i % 7 == 3 ? "bad" : "")}}{{i}}"}"""))));
        return path;
    }

    [Fact]
    public async Task Run_prints_what_duckdb_answers_for_the_same_query_over_the_same_json_records()
    {
        var input = Records();
        const string select = "SELECT id, upper(name) AS who, score * 2 AS s2, date_trunc('day', ts) AS day, length(name) AS len FROM input WHERE id % 3 <> 1 AND score < 8 ORDER BY id";
        var ours = await RunOkAsync("sql", "run", select, "--input", input);
        // DuckDB reads the same file with the types our inference gives it (whole numbers BIGINT, a date-time with a zone TIMESTAMPTZ).
        var duck = DuckRows($"WITH input AS (SELECT * FROM read_json('{input}', columns = {{id: 'BIGINT', name: 'VARCHAR', score: 'DOUBLE', ts: 'TIMESTAMPTZ', tags: 'VARCHAR[]', code: 'VARCHAR'}})) " +
            $"SELECT COLUMNS(*)::VARCHAR FROM ({select})");
        Assert.Equal(["id | who | s2 | day | len", .. duck, $"({duck.Count} rows)"], ours);

        // Aggregates and UNNEST over bounded input, as CSV; records that fail are dropped and counted on stderr.
        var grouped = await RunOkAsync("sql", "run", "SELECT tag, count(*) AS n, sum(CAST(code AS INTEGER)) AS total FROM (SELECT UNNEST(tags) AS tag, code FROM input) GROUP BY tag ORDER BY tag", "--input", input, "--format", "csv");
        var bad = Enumerable.Range(0, 40).Where(i => i % 7 == 3).ToList();
        Assert.Equal("tag,n,total", grouped[0]);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"x,{40 - bad.Count},{Enumerable.Range(0, 40).Except(bad).Sum()}"), grouped.Single(l => l.StartsWith("x,", StringComparison.Ordinal)));
        Assert.Contains(grouped, l => l.StartsWith("dropped " + (bad.Count * 2).ToString(CultureInfo.InvariantCulture) + " record(s): invalid_cast", StringComparison.Ordinal));

        var ndjson = await RunOkAsync("sql", "run", "SELECT id, tags FROM input WHERE id < 2 ORDER BY id", "--input", input, "--format", "ndjson");
        Assert.Equal(["""{"id":0,"tags":["t0","x"]}""", """{"id":1,"tags":["t1","x"]}"""], ndjson);
    }

    [Fact]
    public async Task Run_reads_parquet_files_and_a_given_schema()
    {
        var input = Records();
        var parquet = Path.Combine(_workDir, "sample.parquet");
        DuckRows($"COPY (SELECT id::INTEGER AS id, name, score FROM read_json_auto('{input}')) TO '{parquet}' (FORMAT parquet)");
        const string select = "SELECT id + 1 AS next, coalesce(name, '?') AS name FROM input WHERE score BETWEEN 2 AND 4 ORDER BY next";
        var ours = await RunOkAsync("sql", "run", select, "--input", parquet);
        var duck = DuckRows($"WITH input AS (SELECT * FROM '{parquet}') SELECT COLUMNS(*)::VARCHAR FROM ({select})");
        Assert.Equal(["next | name", .. duck, $"({duck.Count} rows)"], ours);

        // With --schema the records are read as declared (the other fields left out): code as text, CAST where it is a number.
        var schema = Path.Combine(_workDir, "schema.json");
        File.WriteAllText(schema, """{"fields": [{"name": "id", "type": "int", "required": true}, {"name": "code", "type": "string"}]}""");
        var typed = await RunOkAsync("sql", "run", "SELECT id, CAST(code AS INTEGER) + id AS twice FROM input WHERE id < 5 ORDER BY id", "--input", input, "--schema", schema);
        Assert.Equal(["id | twice", "0 | 0", "1 | 2", "2 | 4", "4 | 8", "(4 rows)", "dropped 1 record(s): invalid_cast (a value that does not convert to the CAST's type), e.g. CAST('bad3' AS INTEGER) failed (in SELECT)"], typed);
    }

    [Fact]
    public async Task Errors_name_the_line_and_column_with_the_caret_under_the_spot_and_exit_1()
    {
        var input = Records();
        var (exit, output) = await RunAsync("sql", "run", "SELECT id,\n  nme FROM input", "--input", input);
        Assert.Equal(1, exit);
        var lines = Lines(output);
        Assert.Contains(lines, l => l.StartsWith("error: SQL error at line 2, column 3: there is no column \"nme\"; did you mean \"name\"?", StringComparison.Ordinal));
        int shown = lines.FindIndex(l => l == "    nme FROM input");
        Assert.True(shown > 0, output);
        Assert.Equal("    ^", lines[shown + 1]);

        File.WriteAllText(Path.Combine(_workDir, "mixed.ndjson"), "{\"a\": 1}\n{\"a\": \"one\"}\n");
        (exit, output) = await RunAsync("sql", "run", "SELECT * FROM input", "--input", Path.Combine(_workDir, "mixed.ndjson"));
        Assert.Equal(1, exit);
        Assert.Contains("Field 'a' is a number in one record and a string in another; give its type with --schema.", output);
    }

    [Fact]
    public async Task Explain_prints_each_statements_columns_and_plan_against_a_schema_file_or_a_servers_stream()
    {
        var schema = Path.Combine(_workDir, "schema.json");
        File.WriteAllText(schema, """{"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}""");
        var local = await RunOkAsync("sql", "explain", "SELECT id, upper(user) AS who FROM events WHERE id > 3", "--schema", schema);
        Assert.Equal(["SELECT", "  id long required", "  who string", "  Project id AS id, upper(user) AS who", "    Filter (id > 3)", "      Scan events [id, user]"], local);

        int port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--log-format", "simple"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var created = await http.PostAsync("api/v1/streams", new StringContent(
            """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "tags", "type": {"type": "list", "element": "string"}}]}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var remote = await RunOkAsync("sql", "explain", "INSERT INTO a SELECT id, UNNEST(tags) AS tag FROM events; INSERT INTO b SELECT id FROM events WHERE id > 3", "--server", server.BaseAddress.ToString());
        Assert.Equal("INSERT INTO a", remote[0]);
        Assert.Contains("  tag string", remote);
        Assert.Contains(remote, l => l.Trim().StartsWith("Unnest", StringComparison.Ordinal));
        Assert.Equal(["INSERT INTO b", "  id long required", "  Project id AS id", "    Filter (id > 3)", "      Scan events [id]"], remote.SkipWhile(l => l != "INSERT INTO b"));
        // GROUP BY keys without a window over a stream: an updating aggregate, its keys the sink table's identifier fields.
        var updating = await RunOkAsync("sql", "explain", "INSERT INTO a SELECT id, count(*) AS n FROM events GROUP BY id", "--server", server.BaseAddress.ToString());
        Assert.Equal(["INSERT INTO a", "  id long required", "  n long required", "  one row per key: the sink table's identifier fields are [id]"], updating.Take(4));
        Assert.Contains(updating, l => l.Trim().StartsWith("UpdatingAggregate keys [id] count(*)", StringComparison.Ordinal));
        // Under the plan, each operator that keeps state, with the keys it keeps it per.
        Assert.Equal("  state: UpdatingAggregate count(*) keys [id]", updating[^1]);
        var windowed = await RunOkAsync("sql", "explain", "INSERT INTO a SELECT window_start, id, count(*) AS n FROM events GROUP BY tumble(INTERVAL '1' MINUTE), id", "--server", server.BaseAddress.ToString());
        Assert.Equal("  state: WindowAggregate tumble(60s) over processing time count(*) keys [id]", windowed[^1]);
        // A stream created with its event time: explain compiles against it as a pipeline would, its windows by that time.
        var taps = await RunOkAsync("stream", "create", "taps", "--field", "ts:timestamp", "--field", "k:string", "--watermark", "ts", "--watermark-delay", "5 seconds",
            "--server", server.BaseAddress.ToString());
        Assert.Contains("Stream taps created", string.Join(" ", taps));
        var byEventTime = await RunOkAsync("sql", "explain", "INSERT INTO a SELECT window_start, k, count(*) AS n FROM taps GROUP BY tumble(INTERVAL '1' MINUTE), k", "--server", server.BaseAddress.ToString());
        Assert.Equal("  state: WindowAggregate tumble(60s) count(*) keys [k]", byEventTime[^1]);
        var (badExit, badOutput) = await RunAsync("stream", "create", "slow", "--field", "ts:timestamp", "--watermark", "ts", "--watermark-delay", "5 parsecs", "--server", server.BaseAddress.ToString());
        Assert.Equal(1, badExit);
        string said = string.Join(" ", badOutput.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)); // the console may wrap it
        Assert.True(said.Contains("delay \"5 parsecs\" is not a duration", StringComparison.Ordinal), said);
        // The explained SQL deployed with `dataplane pipeline create`: it names every sink the pipeline writes.
        foreach (var sink in new[] { "a", "b", "failed" })
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("api/v1/sinks", new StringContent($$"""{"name": "{{sink}}", "type": "files", "path": "raw/{{sink}}"}""", Encoding.UTF8, "application/json"))).StatusCode);
        var deployed = await RunOkAsync("pipeline", "create", "shaped", "--sql", "INSERT INTO a SELECT id, UNNEST(tags) AS tag FROM events; INSERT INTO b SELECT id FROM events WHERE id > 3",
            "--dead-letter", "failed", "--server", server.BaseAddress.ToString());
        Assert.Equal("Pipeline shaped created: events -> a, b (dead letters: failed)", string.Join(" ", deployed).Trim());

        // A lookup join of the server's database table: explained by the server, which holds the table, with its keys and source.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("api/v1/databases", new StringContent("""{"name": "crm", "replicas": 0}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("db/crm/query", new StringContent("""{"sql": "CREATE TABLE customers (id INTEGER, tier TEXT)"}""", Encoding.UTF8, "application/json"))).StatusCode);
        var lookup = await RunOkAsync("sql", "explain", "INSERT INTO a SELECT e.id, c.tier FROM events e LEFT JOIN db.crm.customers c ON e.id = c.id", "--server", server.BaseAddress.ToString());
        Assert.Equal(["INSERT INTO a", "  id long required", "  tier string"], lookup.Take(3));
        Assert.Contains(lookup, l => l.Trim() == "LookupJoin LEFT keys [id = id] table db.crm.customers (database)");

        // A stream has no end: what a pipeline refuses, explain refuses too.
        var (exit, output) = await RunAsync("sql", "explain", "INSERT INTO a SELECT count(*) AS n FROM events", "--server", server.BaseAddress.ToString());
        Assert.Equal(1, exit);
        Assert.Contains("aggregation over a stream needs a window", output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
