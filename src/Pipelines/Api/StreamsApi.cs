using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary><c>/api/v1/streams</c>: create, list, get and delete streams; a stream's ingestion activity and most recent records.</summary>
internal sealed class StreamsApi(StreamRegistry streams, StreamSources sources, PipelinesOptions options, ApiAccess access)
{
    /// <summary>The most records <c>GET /api/v1/streams/NAME/records</c> returns, and the most log batches it reads for them.</summary>
    public const int MaxRecentRecords = 100;

    /// <summary><c>GET /api/v1/streams/NAME/activity</c>: what HTTP ingestion accepted and refused, and the last 15 minutes.</summary>
    public Task ActivityAsync(HttpContext context, string name) =>
        JsonResponse.WriteFoundAsync(context.Response, streams.Find(name), "stream", name, (w, s) => s.Activity.Write(w, DateTimeOffset.UtcNow));

    /// <summary>
    /// <c>GET /api/v1/streams/NAME/records?limit=N</c>: the stream's last N records (1 to 100, default 20) still in its
    /// log, oldest first, as ingestion takes them: what a pipeline would read next. Read-only; it holds no offset.
    /// </summary>
    public async Task RecordsAsync(HttpContext context, string name)
    {
        var stream = streams.Find(name);
        if (stream is null)
        {
            await NotFound(context, name);
            return;
        }
        int limit = 20;
        var text = context.Request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxRecentRecords))
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest,
                $"?limit= must be a whole number from 1 to {MaxRecentRecords} (got '{(text.Length <= 40 ? text : text[..40] + "...")}').");
            return;
        }
        long end = stream.Log.EndOffset;
        var batches = stream.RecentBatches(limit, out int skip);
        try
        {
            long first = batches.Count == 0 ? end : batches[0].FirstOffset + skip;
            bool schemaless = stream.Definition.Schemaless;
            await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("first_offset", first);
                w.WriteNumber("end_offset", end);
                w.WriteStartArray("records");
                foreach (var batch in batches)
                {
                    using var reader = new ArrowStreamReader(batch.Payload);
                    using var records = reader.ReadNextRecordBatch();
                    for (int row = skip; row < records.Length; row++)
                        WriteRecord(w, records, row, schemaless);
                    skip = 0;
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        finally
        {
            foreach (var batch in batches) batch.Release();
        }
    }

    private static void WriteRecord(Utf8JsonWriter w, RecordBatch records, int row, bool schemaless)
    {
        if (schemaless && records.Column(0) is StringArray whole && !whole.IsNull(row))
        {
            // A schemaless stream keeps each record whole as its JSON text, checked when it was accepted.
            w.WriteRawValue(whole.GetBytes(row), skipInputValidation: false);
            return;
        }
        ArrowJson.WriteRow(w, records, row);
    }

    public async Task CreateAsync(HttpContext context)
    {
        using var json = await JsonResponse.ReadAsync(context);
        if (json is null)
            return;
        StreamDefinition definition;
        try
        {
            definition = StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
            definition.Source?.Validate(definition.Name);
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        IngestStream stream;
        try
        {
            if (!streams.TryCreate(definition, out stream))
            {
                await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, streams.NameTaken(definition.Name));
                return;
            }
        }
        catch (InvalidOperationException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        sources.Start(stream);
        context.Response.Headers.Location = $"/api/v1/streams/{stream.Name}";
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status201Created, w => Write(w, stream));
    }

    /// <summary>
    /// The streams and, by name among them, the stored ones that failed to load. <c>?secrets=true</c> shows a Kafka
    /// source's passwords and secrets (hidden otherwise) to a token that may manage: what an ingest or worker process
    /// needs to mirror the definitions whole.
    /// </summary>
    public async Task ListAsync(HttpContext context)
    {
        bool secrets = context.Request.Query["secrets"] == "true";
        if (secrets && access.Of(context.Request) != ApiAccess.Level.Manage)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status403Forbidden,
                "?secrets=true shows the Kafka sources' passwords and secrets; it needs a token that may manage (without ReadOnly).");
            return;
        }
        await JsonResponse.WriteListAsync(context.Response, "streams",
            streams.List().Select(s => (s.Name, (Action<Utf8JsonWriter>)(w => Write(w, s, redactSecrets: !secrets))))
                .Concat(streams.Failed().Select(f => (f.Name, (Action<Utf8JsonWriter>)f.Write)))
                .OrderBy(e => e.Item1, StringComparer.Ordinal),
            (w, e) => e.Item2(w));
    }

    public Task GetAsync(HttpContext context, string name) =>
        streams.FindFailed(name) is { } failed
            ? JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, failed.Write)
            : JsonResponse.WriteFoundAsync(context.Response, streams.Find(name), "stream", name, Write);

    public async Task DeleteAsync(HttpContext context, string name)
    {
        if (streams.FindFailed(name) is not null)
        {
            await streams.DeleteAsync(name);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        bool deleted;
        try
        {
            deleted = await streams.DeleteAsync(name, () => sources.StopAsync(name));
        }
        catch (InvalidOperationException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        if (!deleted)
        {
            await NotFound(context, name);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task NotFound(HttpContext context, string name) => JsonResponse.NotFoundAsync(context.Response, "stream", name);

    private void Write(Utf8JsonWriter w, IngestStream stream) => Write(w, stream, redactSecrets: true);

    private void Write(Utf8JsonWriter w, IngestStream stream, bool redactSecrets)
    {
        var d = stream.Definition;
        w.WriteStartObject();
        w.WriteString("name", d.Name);
        w.WriteString("state", "ready");
        if (d.Source is null || d.KafkaBacked) w.WriteString("endpoint", $"/streams/{d.Name}"); else w.WriteNull("endpoint");
        if (d.Key is not null) w.WriteString("key", d.Key);
        w.WriteBoolean("schemaless", d.Schemaless);
        w.WritePropertyName("schema");
        if (d.Schemaless)
            w.WriteNullValue();
        else
        {
            w.WriteStartObject();
            d.WriteFields(w);
            w.WriteEndObject();
        }
        d.Watermark?.Write(w);
        w.WriteString("created_at", d.CreatedAt);
        w.WriteStartObject("log");
        w.WriteNumber("start_offset", stream.Log.StartOffset);
        w.WriteNumber("end_offset", stream.Log.EndOffset);
        w.WriteNumber("size_bytes", stream.Log.SizeBytes);
        w.WriteNumber("segments", stream.Log.SegmentCount);
        w.WriteNumber("max_bytes", options.MaxLogBytes);
        w.WriteEndObject();
        if (d.Source is not null)
        {
            w.WriteStartObject("source");
            d.Source.Write(w, redactSecrets);
            sources.Find(d.Name)?.WriteStatus(w);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
