using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Pipelines.Tests.Ingest;

public sealed class IngestApiTests : IAsyncLifetime
{
    private const string EventsSchema = """
        {"name": "events", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true},
          {"name": "ts", "type": "timestamptz"},
          {"name": "user", "type": "string"},
          {"name": "score", "type": "double"},
          {"name": "ok", "type": "boolean"}]}}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-ingest-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await StartAsync();

    private Task<PipelinesHost> StartAsync(Action<PipelinesOptions>? configure = null) => PipelinesHost.StartAsync(_dir, configure);

    private HttpClient Http => _host.Client;

    private async Task CreateEventsAsync()
    {
        var created = await Http.PostAsync("api/v1/streams", Json(EventsSchema));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static ByteArrayContent Gzip(string text, CompressionLevel level = CompressionLevel.Fastest)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, level, leaveOpen: true))
            gz.Write(Encoding.UTF8.GetBytes(text));
        var content = new ByteArrayContent(output.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private IngestStream Stream(string name) => _host.Services.GetRequiredService<StreamRegistry>().Find(name)!;

    /// <summary>Every record in the stream's log, column by column, as read back from the Arrow IPC batches.</summary>
    private List<RecordBatch> ReadLog(string name)
    {
        var log = Stream(name).Log;
        var batches = new List<RecordBatch>();
        long offset = log.StartOffset;
        while (log.TryRead(offset, out var batch))
        {
            var copy = batch.Payload.ToArray();
            batch.Release();
            using var reader = new ArrowStreamReader(copy);
            var recordBatch = reader.ReadNextRecordBatch();
            Assert.Equal(batch.RecordCount, recordBatch.Length);
            batches.Add(recordBatch);
            offset = batch.EndOffset;
        }
        return batches;
    }

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Ndjson_arrays_and_gzip_bodies_are_kept_with_typed_values_and_nulls()
    {
        await CreateEventsAsync();

        var ndjson = await Http.PostAsync("streams/events", Json("""
            {"id": 1, "ts": "2026-01-31T12:00:00Z", "user": "ann", "score": 1.5, "ok": true}
            {"user": "b\u00e9a \"q\"", "id": 2, "extra": {"ignored": [1, 2]}}
            {"id": 3, "ts": 1769860800000, "ok": false, "score": null}
            """));
        Assert.Equal(HttpStatusCode.OK, ndjson.StatusCode);
        Assert.Equal(3, (await BodyAsync(ndjson)).GetProperty("accepted").GetInt32());

        var array = await Http.PostAsync("streams/events", Json("""[{"id": 4, "ts": "2026-01-31T13:00:00+01:00"}, {"id": 5}]"""));
        Assert.Equal(2, (await BodyAsync(array)).GetProperty("accepted").GetInt32());

        var gzip = await Http.PostAsync("streams/events", Gzip("""{"id": 6, "user": "gz"}""" + "\n" + """{"id": 7}"""));
        Assert.Equal(2, (await BodyAsync(gzip)).GetProperty("accepted").GetInt32());

        var batches = ReadLog("events");
        Assert.Equal([3, 2, 2], batches.Select(b => b.Length));
        var ids = batches.SelectMany(b => ((Int64Array)b.Column("id")).Values.ToArray()).ToArray();
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], ids);
        var first = batches[0];
        var ts = (TimestampArray)first.Column("ts");
        long expectedMicros = new DateTimeOffset(2026, 1, 31, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        Assert.Equal(expectedMicros, ts.Values[0]);
        Assert.False(ts.IsValid(1));
        Assert.Equal(1769860800000L * 1000, ts.Values[2]);
        var users = (StringArray)first.Column("user");
        Assert.Equal("ann", users.GetString(0));
        Assert.Equal("b\u00e9a \"q\"", users.GetString(1));
        Assert.False(users.IsValid(2));
        Assert.Equal(1.5, ((DoubleArray)first.Column("score")).GetValue(0));
        Assert.Null(((DoubleArray)first.Column("score")).GetValue(2));
        Assert.Equal([true, null, false], Enumerable.Range(0, 3).Select(i => ((BooleanArray)first.Column("ok")).GetValue(i)));
        // An offset in the string is honoured: 13:00+01:00 is 12:00 UTC.
        Assert.Equal(expectedMicros, ((TimestampArray)batches[1].Column("ts")).Values[0]);
        Assert.Equal("gz", ((StringArray)batches[2].Column("user")).GetString(0));
    }

    [Fact]
    public async Task A_request_with_records_that_fail_the_schema_is_refused_whole_listing_index_field_and_reason()
    {
        await CreateEventsAsync();
        var response = await Http.PostAsync("streams/events", Json("""
            {"id": 1}
            {"id": "two"}
            {"user": "no id"}
            {"id": 4, "ts": "yesterday", "ok": "yes"}
            {"id": null}
            [1]
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problems = (await BodyAsync(response)).GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty("record").GetInt32(), p.GetProperty("field").ValueKind == JsonValueKind.Null ? null : p.GetProperty("field").GetString(), p.GetProperty("reason").GetString()!))
            .ToList();
        Assert.Equal([(1, "id"), (2, "id"), (3, "ts"), (3, "ok"), (4, "id"), (5, null)], problems.Select(p => (p.Item1, p.Item2)));
        Assert.Contains("expected a long, got a string", problems[0].Item3);
        Assert.Contains("required but missing", problems[1].Item3);
        Assert.Contains("ISO 8601", problems[2].Item3);
        Assert.Contains("required but is null", problems[4].Item3);
        Assert.Contains("must be a JSON object", problems[5].Item3);
        Assert.Equal(0, Stream("events").Log.EndOffset);
    }

    [Fact]
    public async Task Problems_inside_lists_and_maps_name_the_element_or_key_and_the_records_after_them_still_parse()
    {
        var created = await Http.PostAsync("api/v1/streams", Json("""
            {"name": "nested", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true},
              {"name": "tags", "type": {"type": "list", "element": "long", "element-required": true}},
              {"name": "grid", "type": {"type": "list", "element": {"type": "list", "element": "long"}}},
              {"name": "attrs", "type": {"type": "map", "key": "string", "value": "int", "value-required": true}}]}}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var response = await Http.PostAsync("streams/nested", Json("""
            {"id": 1, "tags": [1, null, 3], "grid": [[1], [2, "x"]], "attrs": {"a": 1, "b": null}}
            {"id": 2, "tags": [4], "grid": [[5]], "attrs": {"c": "seven"}}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problems = (await BodyAsync(response)).GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("record").GetInt32()} {p.GetProperty("field").GetString()}{p.GetProperty("reason").GetString()}").ToList();
        Assert.Equal(4, problems.Count);
        Assert.StartsWith("0 tags[1]: elements are required but this one is null", problems[0]);
        Assert.StartsWith("0 grid[1][1]: expected a long", problems[1]);
        Assert.StartsWith("0 attrs[\"b\"]: values are required but this one is null", problems[2]);
        Assert.StartsWith("1 attrs[\"c\"]: expected an int", problems[3]);

        var accepted = await Http.PostAsync("streams/nested", Json("""{"id": 3, "tags": [1, 2], "grid": [[1, null], []], "attrs": {"a": 1}}"""));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Only_the_first_hundred_problems_are_listed()
    {
        await CreateEventsAsync();
        var body = string.Join("\n", Enumerable.Range(0, 500).Select(i => $$"""{"id": "x{{i}}"}"""));
        var response = await Http.PostAsync("streams/events", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problems = (await BodyAsync(response)).GetProperty("problems");
        Assert.Equal(100, problems.GetArrayLength());
        Assert.Equal(99, problems[99].GetProperty("record").GetInt32());
        Assert.Equal(0, Stream("events").Log.EndOffset);
    }

    [Theory]
    [InlineData("""{"id": 1}{"id": 2""")]
    [InlineData("""[{"id": 1}, {"id": 2}""")]
    [InlineData("""[{"id": 1}] {"id": 2}""")]
    [InlineData("""{"id": 1, }""")]
    [InlineData("not json")]
    public async Task Malformed_json_is_a_400_and_nothing_is_kept(string body)
    {
        await CreateEventsAsync();
        var response = await Http.PostAsync("streams/events", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Nothing was accepted", (await BodyAsync(response)).GetProperty("error").GetString());
        Assert.Equal(0, Stream("events").Log.EndOffset);
    }

    [Fact]
    public async Task Bodies_past_the_limits_are_413_including_a_gzip_bomb_and_an_oversized_record()
    {
        await _host.DisposeAsync();
        _host = await StartAsync(o => { o.MaxRequestBytes = 64 * 1024; o.MaxRecordBytes = 1024; });
        await CreateEventsAsync();

        var big = string.Join("\n", Enumerable.Range(0, 3000).Select(i => $$"""{"id": {{i}}, "user": "someone"}"""));
        var tooBig = await Http.PostAsync("streams/events", Json(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("65536", (await BodyAsync(tooBig)).GetProperty("error").GetString());

        // 10 MB of spaces and one record gzip to about 10 KB.
        var bomb = Gzip(new string(' ', 10 * 1024 * 1024) + """{"id": 1}""", CompressionLevel.SmallestSize);
        Assert.True(bomb.Headers.ContentLength < 64 * 1024);
        var bombed = await Http.PostAsync("streams/events", bomb);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bombed.StatusCode);
        Assert.Contains("inflates past", (await BodyAsync(bombed)).GetProperty("error").GetString());

        var wide = await Http.PostAsync("streams/events", Json($$"""{"id": 1}""" + "\n" + $$"""{"id": 2, "user": "{{new string('u', 2000)}}"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, wide.StatusCode);
        Assert.Contains("record 1 is", (await BodyAsync(wide)).GetProperty("error").GetString());

        Assert.Equal(0, Stream("events").Log.EndOffset);
        var metrics = await Http.GetStringAsync("metrics");
        Assert.Contains("dataplane_stream_rejected_requests_total{otel_scope_name=\"DataPlane.Pipelines\",reason=\"body_too_large\",stream=\"events\"} 2", metrics);
        Assert.Contains("dataplane_stream_rejected_requests_total{otel_scope_name=\"DataPlane.Pipelines\",reason=\"record_too_large\",stream=\"events\"} 1", metrics);
    }

    [Fact]
    public async Task Names_are_checked_unknown_streams_are_404_and_streams_can_be_listed_read_and_deleted()
    {
        var badName = await Http.PostAsync("api/v1/streams", Json("""{"name": "Events-1"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("[a-z][a-z0-9_]*", (await BodyAsync(badName)).GetProperty("error").GetString());
        // A name becomes a folder and a URL segment: a final line break ('$' matches before one) is not a name's.
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.PostAsync("api/v1/streams", Json("""{"name": "events\n"}"""))).StatusCode);

        var badType = await Http.PostAsync("api/v1/streams", Json("""{"name": "e", "schema": {"fields": [{"name": "x", "type": "varchar"}]}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        Assert.Contains("'varchar'", (await BodyAsync(badType)).GetProperty("error").GetString());

        var unknown = await Http.PostAsync("streams/nope", Json("""{"id": 1}"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("'nope'", (await BodyAsync(unknown)).GetProperty("error").GetString());

        await CreateEventsAsync();
        Assert.Equal(HttpStatusCode.Conflict, (await Http.PostAsync("api/v1/streams", Json(EventsSchema))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json("""{"name": "raw"}"""))).StatusCode);

        var list = await BodyAsync(await Http.GetAsync("api/v1/streams"));
        Assert.Equal(["events", "raw"], list.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var events = await BodyAsync(await Http.GetAsync("api/v1/streams/events"));
        Assert.Equal("timestamptz", events.GetProperty("schema").GetProperty("fields")[1].GetProperty("type").GetString());
        Assert.True(events.GetProperty("schema").GetProperty("fields")[0].GetProperty("required").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("api/v1/streams/raw")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("api/v1/streams/raw")).StatusCode);

        // Definitions survive a restart.
        await _host.DisposeAsync();
        _host = await StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("api/v1/streams/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("api/v1/streams/raw")).StatusCode);
    }

    [Fact]
    public async Task A_schemaless_stream_keeps_each_record_as_its_json_text()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json("""{"name": "raw"}"""))).StatusCode);
        var response = await Http.PostAsync("streams/raw", Json("""[{"a": 1, "b": [true, null]}, {"nested": {"x": "y"}}]"""));
        Assert.Equal(2, (await BodyAsync(response)).GetProperty("accepted").GetInt32());
        var values = (StringArray)ReadLog("raw").Single().Column("value");
        Assert.Equal("""{"a": 1, "b": [true, null]}""", values.GetString(0));
        Assert.Equal("""{"nested": {"x": "y"}}""", values.GetString(1));
    }

    [Fact]
    public async Task A_full_log_answers_429_with_retry_after_and_keeps_what_it_had()
    {
        await _host.DisposeAsync();
        _host = await StartAsync(o => { o.MaxLogBytes = 4096; o.SegmentBytes = 1024; });
        await CreateEventsAsync();
        HttpResponseMessage response;
        long accepted = 0;
        while ((response = await Http.PostAsync("streams/events", Json("""{"id": 1, "user": "a user with a name"}"""))).StatusCode == HttpStatusCode.OK)
            accepted++;
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.True(accepted > 0);
        Assert.Equal(accepted, Stream("events").Log.EndOffset);
    }

    private const string AllTypes = """
        {"name": "typed", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true},
          {"name": "s", "type": "string"},
          {"name": "ts", "type": "timestamptz"},
          {"name": "d", "type": "date"},
          {"name": "t", "type": "time"},
          {"name": "u", "type": "uuid"},
          {"name": "n", "type": "decimal(10,2)"},
          {"name": "b", "type": "binary"},
          {"name": "st", "type": {"type": "struct", "fields": [{"name": "inner", "type": "string"}]}},
          {"name": "l", "type": {"type": "list", "element": "string"}},
          {"name": "m", "type": {"type": "map", "key": "string", "value": "string"}}]}}
        """;

    private async Task<List<(int Record, string? Field, string Reason)>> ProblemsAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty("record").GetInt32(), p.GetProperty("field").ValueKind == JsonValueKind.Null ? null : p.GetProperty("field").GetString(), p.GetProperty("reason").GetString()!))
            .ToList();
    }

    [Fact]
    public async Task A_lone_surrogate_escape_is_refused_with_the_record_and_field_in_every_kind_of_column()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json(AllTypes))).StatusCode);
        var records = new[]
        {
            """{"id": 0, "s": "ok \ud83d\ude00 pair"}""",
            """{"id": 1, "s": "\ud800"}""",
            """{"id": 2, "ts": "2026-01-01T00:00:00\udfff"}""",
            """{"id": 3, "d": "\ud800"}""",
            """{"id": 4, "t": "\ud800"}""",
            """{"id": 5, "u": "\ud800"}""",
            """{"id": 6, "n": "1\ud800"}""",
            """{"id": 7, "b": "\ud800"}""",
            """{"id": 8, "st": {"inner": "x\udc00"}}""",
            """{"id": 9, "l": ["a", "\ud800"]}""",
            """{"id": 10, "m": {"\ud800": "v"}}""",
            """{"id": 11, "m": {"k": "\ud800"}}""",
            """{"id": 12, "\ud800": "an undeclared field is dropped, whatever its name"}""",
        };
        var problems = await ProblemsAsync(await Http.PostAsync("streams/typed", Json(string.Join("\n", records))));
        Assert.Equal([(1, "s"), (2, "ts"), (3, "d"), (4, "t"), (5, "u"), (6, "n"), (7, "b"), (8, "st"), (9, "l"), (10, "m"), (11, "m")],
            problems.Select(p => (p.Record, p.Field)));
        Assert.Contains("\\ud800", problems[0].Reason);
        Assert.Contains("surrogate", problems[0].Reason);
        Assert.Equal(0, Stream("typed").Log.EndOffset);

        // The same records without the bad ones go in, the surrogate pair decoded.
        var good = await Http.PostAsync("streams/typed", Json(records[0] + "\n" + records[12]));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal("ok \U0001F600 pair", ((StringArray)ReadLog("typed").Single().Column("s")).GetString(0));
    }

    [Fact]
    public async Task Invalid_utf8_in_string_values_is_refused_with_the_record_and_field_never_stored()
    {
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json(AllTypes))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json("""{"name": "raw"}"""))).StatusCode);
        byte[] Body(params string[] lines) => lines.SelectMany(l => Encoding.UTF8.GetBytes(l).Select(b => b == (byte)'~' ? (byte)0xFF : b).Append((byte)'\n')).ToArray();
        ByteArrayContent Content(byte[] body) => new(body) { Headers = { ContentType = new("application/json") } };

        // '~' stands for the byte 0xFF, which UTF-8 never has.
        var body = Body(
            """{"id": 0, "s": "fine"}""",
            """{"id": 1, "s": "bad ~ byte"}""",
            """{"id": 2, "st": {"inner": "~"}}""",
            """{"id": 3, "l": ["~"]}""",
            """{"id": 4, "m": {"~": "key"}}""",
            """{"id": 5, "m": {"k": "~"}}""",
            """{"id": 6, "s": "escaped \u00e9 then ~"}""");
        var problems = await ProblemsAsync(await Http.PostAsync("streams/typed", Content(body)));
        Assert.Equal([(1, "s"), (2, "st"), (3, "l"), (4, "m"), (5, "m"), (6, "s")], problems.Select(p => (p.Record, p.Field)));
        Assert.Contains("not valid UTF-8", problems[0].Reason);
        Assert.Equal(0, Stream("typed").Log.EndOffset);

        // A schemaless stream keeps each record's text: it must be UTF-8 too.
        problems = await ProblemsAsync(await Http.PostAsync("streams/raw", Content(Body("""{"a": 1}""", """{"a": "~"}"""))));
        Assert.Equal([(1, null)], problems.Select(p => (p.Record, p.Field)));
        Assert.Contains("not valid UTF-8", problems[0].Reason);
        Assert.Equal(0, Stream("raw").Log.EndOffset);
    }

    [Fact]
    public async Task A_404_for_an_unknown_stream_names_only_the_stream_asked_for()
    {
        foreach (var name in new[] { "secret_customers", "internal_audit" })
            Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync("api/v1/streams", Json($$"""{"name": "{{name}}"}"""))).StatusCode);
        foreach (var response in new[] { await Http.PostAsync("streams/nope", Json("""{"id": 1}""")), await Http.GetAsync("api/v1/streams/nope") })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var error = (await BodyAsync(response)).GetProperty("error").GetString()!;
            Assert.Contains("'nope'", error);
            Assert.DoesNotContain("secret_customers", error);
            Assert.DoesNotContain("internal_audit", error);
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
