using System.Net;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>A sink's "properties": the table it creates gets them, its pipeline writes by them, and a bad one is a 400.</summary>
public sealed class SinkWritePropertiesTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-sink-props-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private const string Stream = """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "score", "type": "double"}, {"name": "ts", "type": "timestamptz"}]}}""";

    private static string Records(int count) => string.Concat(Enumerable.Range(0, count).Select(i =>
        $$"""{"id": {{i}}, "score": {{i}}.5, "ts": "2026-03-01T10:00:{{i % 60:D2}}Z"}""" + "\n"));

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        var response = await _host.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> PostOkAsync(string path, string body)
    {
        var (status, text) = await PostAsync(path, body);
        Assert.True((int)status is >= 200 and < 300, $"{path}: {(int)status} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<string[]> Query(string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!).ToArray());
        return rows;
    }

    [Fact]
    public async Task An_iceberg_sink_creates_its_table_with_its_properties_and_writes_its_files_by_them()
    {
        await PostOkAsync("api/v1/streams", Stream);
        var sink = await PostOkAsync("api/v1/sinks", """
            {"name": "events_table", "type": "iceberg", "namespace": "web", "table": "events",
             "properties": {"write.parquet.compression-codec": "snappy", "dataplane.parquet.profile": "compact", "write.parquet.row-group-size-bytes": 4096, "owner": "ada"}}
            """);
        Assert.Equal("snappy", sink.GetProperty("properties").GetProperty("write.parquet.compression-codec").GetString());
        Assert.Equal("4096", sink.GetProperty("properties").GetProperty("write.parquet.row-group-size-bytes").GetString());
        await PostOkAsync("api/v1/pipelines", """{"name": "events_pipeline", "sql": "INSERT INTO events_table SELECT * FROM events"}""");
        for (int i = 0; i < 4; i++)
            await PostOkAsync("streams/events", Records(300));
        await PostOkAsync("api/v1/pipelines/events_pipeline/flush", "");

        var table = JsonDocument.Parse(await _host.Client.GetStringAsync("iceberg/v1/namespaces/web/tables/events")).RootElement.GetProperty("metadata");
        var properties = table.GetProperty("properties");
        Assert.Equal("snappy", properties.GetProperty("write.parquet.compression-codec").GetString());
        Assert.Equal("compact", properties.GetProperty("dataplane.parquet.profile").GetString());
        Assert.Equal("ada", properties.GetProperty("owner").GetString());
        var files = Directory.GetFiles(Path.Combine(_dir, "warehouse", "web", "events", "data"), "*.parquet", SearchOption.AllDirectories);
        var list = "[" + string.Join(", ", files.Select(f => $"'{f}'")) + "]";
        var layout = Query($"SELECT string_agg(DISTINCT compression, ','), count(DISTINCT file_name || row_group_id), string_agg(DISTINCT encodings, ',') FILTER (path_in_schema = 'score') FROM parquet_metadata({list})")[0];
        Assert.Equal("SNAPPY", layout[0]);
        Assert.True(int.Parse(layout[1], System.Globalization.CultureInfo.InvariantCulture) >= 4, $"4 KB row groups: one per batch at least, got {layout[1]}");
        Assert.Contains("BYTE_STREAM_SPLIT", layout[2], StringComparison.Ordinal);
        Assert.Equal(["1200", "179400"], Query($"SELECT count(*), sum(id) FROM read_parquet({list})")[0]);
    }

    [Fact]
    public async Task A_parquet_files_sink_writes_its_files_by_its_properties()
    {
        await PostOkAsync("api/v1/streams", Stream);
        await PostOkAsync("api/v1/sinks", """{"name": "events_files", "type": "files", "path": "raw/events", "properties": {"write.parquet.compression-codec": "gzip", "write.parquet.compression-level": "9"}}""");
        await PostOkAsync("api/v1/pipelines", """{"name": "events_pipeline", "sql": "INSERT INTO events_files SELECT * FROM events"}""");
        await PostOkAsync("streams/events", Records(50));
        await PostOkAsync("api/v1/pipelines/events_pipeline/flush", "");

        var files = Directory.GetFiles(Path.Combine(_dir, "warehouse", "raw", "events"), "*.parquet", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        Assert.Equal(["GZIP"], Query($"SELECT DISTINCT compression FROM parquet_metadata([{string.Join(", ", files.Select(f => $"'{f}'"))}])").Select(r => r[0]));
    }

    [Theory]
    [InlineData("""{"write.parquet.compression-codec": "brotli"}""", "write.parquet.compression-codec = 'brotli'")]
    [InlineData("""{"write.parquet.compression-level": "max"}""", "write.parquet.compression-level = 'max'")]
    [InlineData("""{"write.target-file-size-bytes": -5}""", "write.target-file-size-bytes = '-5'")]
    [InlineData("""{"write.parquet.page-size-bytes": true}""", "write.parquet.page-size-bytes")]
    [InlineData("""["write.parquet.compression-codec"]""", "\"properties\" must be an object")]
    public async Task A_bad_property_is_refused_with_a_400_naming_it_and_its_value(string properties, string named)
    {
        var (status, body) = await PostAsync("api/v1/sinks", $$"""{"name": "events_table", "type": "iceberg", "properties": {{properties}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(named, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Client.GetAsync("api/v1/sinks/events_table")).StatusCode);
    }
}
