using System.Globalization;
using System.Net;
using System.Text.Json;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Pipelines.Tests.Sinks;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// A stream's JSON may declare its event time, <c>"watermark": {"column", "delay", "idle_timeout"}</c>: checked when
/// the stream is created (a 400 naming the offending value), kept across restarts, and used by every pipeline over the
/// stream as if its SQL declared it; SQL that declares another for the stream is refused.
/// </summary>
public sealed class StreamWatermarkTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-stream-watermark-").FullName;
    private SharedTable _table = null!;

    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const string Fields = """
        {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}, {"name": "ts", "type": "timestamp"}]}
        """;

    public async Task InitializeAsync() => _table = await SharedTable.StartAsync(_dir);

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Task IngestAsync(params (long Id, string User, double Seconds)[] records) =>
        _table.PostAsync("streams/clicks", string.Concat(records.Select(r => string.Create(CultureInfo.InvariantCulture,
            $$"""{"id": {{r.Id}}, "user": "{{r.User}}", "ts": "{{T0.AddSeconds(r.Seconds):yyyy-MM-ddTHH:mm:ss.fff}}"}""") + "\n")), HttpStatusCode.OK);

    private async Task<List<string>> RowsAsync(string table, string select)
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, table));
        return files.Count == 0 ? [] : TableContents.Rows($"SELECT {select} FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    [Fact]
    public async Task A_window_over_a_stream_whose_json_declares_the_watermark_emits_by_event_time_across_a_restart()
    {
        await _table.PostAsync("api/v1/streams", $$$"""{"name": "clicks", "schema": {{{Fields}}}, "watermark": {"column": "ts", "delay": "10 seconds"}}""", HttpStatusCode.Created);
        var stream = JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/streams/clicks")).RootElement.GetProperty("watermark");
        Assert.Equal("ts", stream.GetProperty("column").GetString());
        Assert.Equal("10 seconds", stream.GetProperty("delay").GetString());
        await _table.CreateSinkAsync("t1");
        // No WATERMARK FOR: the stream's own. (With processing time, window_start would be today's, not 2026-01-01's.)
        await _table.PostAsync("api/v1/pipelines", """
            {"name": "p1", "sql": "INSERT INTO t1 SELECT user || ' ' || CAST(window_start AS VARCHAR) AS user, CAST(sum(id) AS BIGINT) AS id FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user"}
            """, HttpStatusCode.Created);

        await IngestAsync((1, "a", 1), (2, "b", 2), (3, "a", 3));
        await _table.FlushAsync("p1");
        Assert.Empty(await RowsAsync("default.events", "user, id"));
        // 01:15 moves the watermark to 01:05, past minute 0's end; a record at 00:30 is then late.
        await IngestAsync((4, "a", 75));
        await IngestAsync((999, "a", 30));
        await _table.FlushAsync("p1");
        var minute0 = T0.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(TableContents.Sorted([$"a {minute0}|4", $"b {minute0}|2"]), await RowsAsync("default.events", "user, id"));
        var status = JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/pipelines/p1")).RootElement;
        Assert.Equal(1, status.GetProperty("late_records").GetInt64());
        Assert.Equal(new DateTimeOffset(T0.AddSeconds(75 - 10)), status.GetProperty("stateful")[0].GetProperty("watermark").GetDateTimeOffset());

        // The stored stream keeps its watermark: after a restart minute 1 closes by event time too.
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p1");
        Assert.Equal("ts", JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/streams/clicks")).RootElement.GetProperty("watermark").GetProperty("column").GetString());
        await IngestAsync((5, "b", 130));
        await _table.FlushAsync("p1");
        var minute1 = T0.AddMinutes(1).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Equal(TableContents.Sorted([$"a {minute0}|4", $"b {minute0}|2", $"a {minute1}|4"]), await RowsAsync("default.events", "user, id"));
    }

    [Fact]
    public async Task Sql_declaring_another_watermark_for_a_stream_whose_json_declares_one_is_refused()
    {
        await _table.PostAsync("api/v1/streams", $$$"""{"name": "clicks", "schema": {{{Fields}}}, "watermark": {"column": "ts", "delay": "5 seconds"}}""", HttpStatusCode.Created);
        await _table.CreateSinkAsync("t1");
        const string Sql = "WATERMARK FOR clicks.ts AS ts - INTERVAL '1' SECOND; INSERT INTO t1 SELECT user, count(*) AS id FROM clicks GROUP BY tumble(INTERVAL '1' MINUTE), user";
        foreach (var (path, body) in new[] { ("api/v1/pipelines", new { name = "p1", sql = Sql }), ("api/v1/pipelines/validate", new { name = "", sql = Sql }) })
        {
            var error = await _table.PostAsync(path, JsonSerializer.Serialize(body), HttpStatusCode.BadRequest);
            Assert.Contains("declares its watermark itself (on \"ts\", in its definition's \"watermark\")", error.GetProperty("error").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _table.Http.GetAsync("api/v1/pipelines/p1")).StatusCode);
    }

    [Theory]
    [InlineData("""{"column": "when", "delay": "5 seconds"}""", "column \"when\" is not a field of the schema (id, user, ts)")]
    [InlineData("""{"column": "id", "delay": "5 seconds"}""", "column \"id\" is a long field; the event time column is a timestamp or timestamptz field")]
    [InlineData("""{"column": "ts", "delay": "5 parsecs"}""", "delay \"5 parsecs\" is not a duration")]
    [InlineData("""{"column": "ts", "delay": "-5 seconds"}""", "delay \"-5 seconds\" is negative")]
    [InlineData("""{"column": "ts", "delay": "1 month"}""", "delay \"1 month\" is not a duration")]
    [InlineData("""{"column": "ts", "idle_timeout": "soon"}""", "idle_timeout \"soon\" is not a duration")]
    [InlineData("""{"column": "ts", "delay": 5}""", "\"delay\" is 5; it is a text such as \"5 seconds\"")]
    [InlineData("""{"column": "ts", "idle": "30 seconds"}""", "\"watermark\" has \"idle\", which it does not know")]
    [InlineData("""{"delay": "5 seconds"}""", "\"watermark\" needs \"column\"")]
    [InlineData("\"ts\"", "\"watermark\" is \"ts\"; it is an object")]
    public async Task A_stream_whose_watermark_does_not_fit_its_schema_is_refused_naming_the_value(string watermark, string message)
    {
        var error = await _table.PostAsync("api/v1/streams", $$$"""{"name": "clicks", "schema": {{{Fields}}}, "watermark": {{{watermark}}}}""", HttpStatusCode.BadRequest);
        Assert.Contains(message, error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _table.Http.GetAsync("api/v1/streams/clicks")).StatusCode);
    }

    [Fact]
    public async Task A_schemaless_stream_cannot_declare_a_watermark()
    {
        var error = await _table.PostAsync("api/v1/streams", """{"name": "raw", "watermark": {"column": "ts"}}""", HttpStatusCode.BadRequest);
        Assert.Contains("a schemaless stream has no typed fields", error.GetProperty("error").GetString());
    }
}
