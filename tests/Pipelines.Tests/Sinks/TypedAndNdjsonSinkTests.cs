using System.Net;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>Decimal and nested stream fields, and NDJSON file sinks, read back by DuckDB.</summary>
public sealed class TypedAndNdjsonSinkTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-sinks-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private HttpClient Http => _host.Client;
    private string Warehouse => Path.Combine(_dir, "warehouse");

    private const string TypedStream = """
        {"name": "orders", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true},
          {"name": "amount", "type": "decimal(10,2)"},
          {"name": "address", "type": {"type": "struct", "fields": [
            {"name": "city", "type": "string", "required": true}, {"name": "zip", "type": "int"}]}},
          {"name": "tags", "type": {"type": "list", "element": "string"}},
          {"name": "attrs", "type": {"type": "map", "key": "string", "value": "long"}}]}}
        """;

    private const string TypedRecords = """
        {"id": 1, "amount": 12.5, "address": {"city": "Lyon", "zip": 69001}, "tags": ["a", "b"], "attrs": {"x": 1, "y": 2}}
        {"id": 2, "amount": "-0.05", "address": {"city": "Paris"}, "tags": [], "attrs": {}}
        {"id": 3, "amount": 99999999.99, "address": null, "tags": ["c", null], "attrs": {"z": null}}
        {"id": 4, "amount": 1.2E1, "extra": {"ignored": true}}
        """;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        var response = await Http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The files the sink's commit journal names.</summary>
    private List<string> CommittedFiles(string path)
    {
        var files = new List<string>();
        foreach (var commit in Directory.GetFiles(Path.Combine(Warehouse, path, "_dataplane", "commits"), "*.json"))
            foreach (var f in JsonDocument.Parse(File.ReadAllText(commit)).RootElement.GetProperty("files").EnumerateArray())
                files.Add(Path.Combine(Warehouse, f.GetProperty("key").GetString()!));
        return files;
    }

    private static List<string> Query(string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    private static string FileList(IEnumerable<string> files) => "[" + string.Join(", ", files.Select(f => $"'{f}'")) + "]";

    [Fact]
    public async Task Decimal_struct_list_and_map_fields_land_as_typed_parquet_columns_through_a_where_filter()
    {
        await PostAsync("api/v1/streams", TypedStream, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "orders_files", "type": "files", "path": "raw/orders"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """{"name": "orders_pipeline", "sql": "INSERT INTO orders_files SELECT * FROM orders WHERE id != 3"}""", HttpStatusCode.Created);
        await PostAsync("streams/orders", TypedRecords, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/orders_pipeline/flush", "", HttpStatusCode.OK);

        var files = CommittedFiles("raw/orders");
        Assert.All(files, f => Assert.EndsWith(".parquet", f));
        var rows = Query($"""
            SELECT id, typeof(amount), amount::VARCHAR, address.city, address.zip, to_json(tags), to_json(attrs)
            FROM read_parquet({FileList(files)}) ORDER BY id
            """);
        Assert.Equal([
            "1 | DECIMAL(10,2) | 12.50 | Lyon | 69001 | [\"a\",\"b\"] | {\"x\":1,\"y\":2}",
            "2 | DECIMAL(10,2) | -0.05 | Paris | NULL | [] | {}",
            "4 | DECIMAL(10,2) | 12.00 | NULL | NULL | NULL | NULL",
        ], rows);
    }

    [Fact]
    public async Task Null_structs_with_required_children_read_back_from_parquet_as_null()
    {
        await PostAsync("api/v1/streams", """
            {"name": "people", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true},
              {"name": "address", "type": {"type": "struct", "fields": [
                {"name": "city", "type": "string", "required": true},
                {"name": "geo", "type": {"type": "struct", "fields": [{"name": "lat", "type": "double", "required": true}]}, "required": true},
                {"name": "zip", "type": "int"}]}}]}}
            """, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "people_files", "type": "files", "path": "raw/people"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """{"name": "people_pipeline", "sql": "INSERT INTO people_files SELECT * FROM people"}""", HttpStatusCode.Created);
        await PostAsync("streams/people", """
            {"id": 1, "address": {"city": "Lyon", "geo": {"lat": 45.75}, "zip": 69001}}
            {"id": 2, "address": null}
            {"id": 3}
            {"id": 4, "address": {"city": "Nice", "geo": {"lat": 43.5}}}
            """, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/people_pipeline/flush", "", HttpStatusCode.OK);

        var rows = Query($"""
            SELECT id, address IS NULL, address.city, address.geo.lat, address.zip
            FROM read_parquet({FileList(CommittedFiles("raw/people"))}) ORDER BY id
            """);
        Assert.Equal([
            "1 | False | Lyon | 45.75 | 69001",
            "2 | True | NULL | NULL | NULL",
            "3 | True | NULL | NULL | NULL",
            "4 | False | Nice | 43.5 | NULL",
        ], rows);
    }

    [Fact]
    public async Task An_ndjson_sink_writes_dated_ndjson_files_that_duckdb_reads_with_exact_decimals_and_nested_values()
    {
        await PostAsync("api/v1/streams", TypedStream, HttpStatusCode.Created);
        var sink = await PostAsync("api/v1/sinks", """{"name": "orders_json", "type": "files", "format": "ndjson", "path": "raw/orders_json", "rolling": {"max_rows": 2}}""", HttpStatusCode.Created);
        Assert.Equal("ndjson", sink.GetProperty("format").GetString());
        await PostAsync("api/v1/pipelines", """{"name": "orders_pipeline", "sql": "INSERT INTO orders_json SELECT * FROM orders"}""", HttpStatusCode.Created);
        await PostAsync("streams/orders", TypedRecords, HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/orders_pipeline/flush", "", HttpStatusCode.OK);

        var files = CommittedFiles("raw/orders_json");
        var today = DateTime.UtcNow;
        Assert.All(files, f =>
        {
            Assert.EndsWith(".ndjson", f);
            Assert.Contains($"/year={today:yyyy}/month={today:MM}/day={today:dd}/", f.Replace('\\', '/'));
        });
        var rows = Query($"""
            SELECT id, amount::DECIMAL(10,2)::VARCHAR, address.city, to_json(tags), to_json(attrs)
            FROM read_json({FileList(files)}, format = 'newline_delimited', columns = {'{'}'id': 'BIGINT', 'amount': 'DECIMAL(10,2)', 'address': 'STRUCT(city VARCHAR, zip INTEGER)', 'tags': 'VARCHAR[]', 'attrs': 'MAP(VARCHAR, BIGINT)'{'}'})
            ORDER BY id
            """);
        Assert.Equal([
            "1 | 12.50 | Lyon | [\"a\",\"b\"] | {\"x\":1,\"y\":2}",
            "2 | -0.05 | Paris | [] | {}",
            "3 | 99999999.99 | NULL | [\"c\",null] | {\"z\":null}",
            "4 | 12.00 | NULL | NULL | NULL",
        ], rows);
        // Decimals are written as exact JSON numbers, not through binary floating point.
        Assert.Contains(files.SelectMany(File.ReadLines), line => line.Contains("\"amount\":99999999.99,"));
    }

    [Fact]
    public async Task A_schemaless_stream_lands_in_an_ndjson_sink_record_for_record()
    {
        await PostAsync("api/v1/streams", """{"name": "raw"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "raw_json", "type": "files", "format": "ndjson", "path": "raw/any"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """{"name": "raw_pipeline", "sql": "INSERT INTO raw_json SELECT * FROM raw"}""", HttpStatusCode.Created);
        string[] records = ["""{"a":1,"b":{"c":[1,2]}}""", """{"text":"<é \"quoted\">"}"""];
        await PostAsync("streams/raw", string.Join("\n", records), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/raw_pipeline/flush", "", HttpStatusCode.OK);

        Assert.Equal(records, CommittedFiles("raw/any").SelectMany(File.ReadLines));
    }

    [Fact]
    public async Task Decimal_and_nested_values_that_do_not_fit_reject_the_request_naming_the_path()
    {
        await PostAsync("api/v1/streams", TypedStream, HttpStatusCode.Created);
        var error = await PostAsync("streams/orders", """
            {"id": 1, "amount": 1.005}
            {"id": 2, "amount": 123456789.5}
            {"id": 3, "address": {"zip": 1}}
            {"id": 4, "address": {"city": "Nice", "zip": "06000"}}
            {"id": 5, "tags": ["a", 7]}
            {"id": 6, "attrs": {"k": "v"}}
            """, HttpStatusCode.BadRequest);

        var problems = error.GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty("record").GetInt32(), p.GetProperty("field").GetString(), p.GetProperty("reason").GetString()!)).ToList();
        Assert.Equal([(0, "amount"), (1, "amount"), (2, "address"), (3, "address"), (4, "tags"), (5, "attrs")], problems.Select(p => (p.Item1, p.Item2)));
        Assert.Contains("more than 2 digits after the point", problems[0].Item3);
        Assert.Contains("does not fit decimal(10, 2)", problems[1].Item3.Replace("decimal(10,2)", "decimal(10, 2)"));
        Assert.Contains("city: the field is required but missing", problems[2].Item3);
        Assert.Contains("zip: expected an int, got a string", problems[3].Item3);
        Assert.Contains("[1]: expected a string, got a number", problems[4].Item3);
        Assert.Contains("[\"k\"]: expected a long, got a string", problems[5].Item3);
    }

    [Theory]
    [InlineData("""{"name": "m", "type": {"type": "map", "key": "int", "value": "long"}}""", "map keys must be \\\"string\\\"")]
    [InlineData("""{"name": "s", "type": {"type": "struct", "fields": []}}""", "struct without \\\"fields\\\"")]
    [InlineData("""{"name": "d", "type": "decimal(40,2)"}""", "not an Iceberg type")]
    public async Task Unusable_nested_and_decimal_types_are_refused_when_the_stream_is_created(string field, string reason)
    {
        var error = await PostAsync("api/v1/streams", $$$"""{"name": "bad", "schema": {"fields": [{{{field}}}]}}""", HttpStatusCode.BadRequest);
        Assert.Contains(reason.Replace("\\\"", "\""), error.GetProperty("error").GetString());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
