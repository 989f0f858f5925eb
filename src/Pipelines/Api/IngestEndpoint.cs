using System.Buffers;
using System.Diagnostics;
using DataPlane.Http;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>
/// <c>POST /streams/{name}</c>: a JSON array of objects or NDJSON, optionally gzip. All or nothing: the answer is
/// 200 <c>{"accepted": N}</c> only once every record is in the ingest log on disk; otherwise nothing is kept. For a
/// Kafka-backed stream, 200 once the broker acknowledged every record (acks=all), and 503 with Retry-After when it did
/// not: never a 200 for a record not stored, though a 503 may leave some of the records in the topic.
/// </summary>
internal sealed class IngestEndpoint(StreamRegistry streams, StreamSources sources, PipelinesOptions options, PipelineMetrics metrics)
{
    public async Task HandleAsync(HttpContext context, string name)
    {
        var started = Stopwatch.GetTimestamp();
        if (!options.TakesRecords)
        {
            // A worker or catalog process: the route is here only to say where records go.
            string role = options.Role.ToString().ToLowerInvariant();
            await RefuseAsync(context, null, "wrong_role", StatusCodes.Status404NotFound,
                $"This process (--role {role}) takes no records, so none were accepted for stream '{name}'; send POST /streams/{name} to an ingest process " +
                "(--role ingest, for a Kafka-backed stream) or a process with --role all.");
            return;
        }
        var stream = streams.Find(name);
        if (stream is null)
        {
            // Not labelled by the unknown name: metrics would grow a series per name a client makes up.
            await RefuseAsync(context, null, "unknown_stream", StatusCodes.Status404NotFound, $"No stream named '{name}'; create it with POST /api/v1/streams.");
            return;
        }

        if (options.Role == ProcessRole.Ingest && stream.Definition.Source is null)
        {
            // Workers on other machines read only what is in the stream's Kafka topic; this process's log is its own.
            await RefuseAsync(context, stream, "local_log", StatusCodes.Status409Conflict,
                $"Stream '{name}' keeps its records in a local log, which only a process running its pipelines reads; an ingest process " +
                "(--role ingest) takes records only for Kafka-backed streams (\"source\": {\"type\": \"kafka\", ..., \"produce\": true}). " +
                "Send them to a process with --role all, or create the stream Kafka-backed.");
            return;
        }

        if (stream.Definition.Source is { Produce: false } source)
        {
            // The Kafka source resumes from the positions in the log's last batch: records from elsewhere would hide them.
            await RefuseAsync(context, stream, "kafka_sourced", StatusCodes.Status409Conflict,
                $"Stream '{name}' consumes Kafka topic '{source.Topic}' on {source.BootstrapServers}; produce records to that topic, or create a stream without \"source\" for HTTP ingestion.");
            return;
        }

        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = await RequestBody.ReadAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
        }
        catch (RequestBodyTooLargeException e)
        {
            await RefuseAsync(context, stream, "body_too_large", StatusCodes.Status413PayloadTooLarge, e.Message);
            return;
        }
        catch (UnsupportedEncodingException e)
        {
            await RefuseAsync(context, stream, "unsupported_encoding", StatusCodes.Status415UnsupportedMediaType, e.Message);
            return;
        }
        catch (MalformedBodyException e)
        {
            await RefuseAsync(context, stream, "malformed_json", StatusCodes.Status400BadRequest, e.Message);
            return;
        }

        var parser = stream.RentParser();
        try
        {
            var outcome = parser.Parse(buffer.AsSpan(0, length), options.MaxRecordBytes);
            switch (outcome)
            {
                case ParseOutcome.Malformed:
                    await RefuseAsync(context, stream, "malformed_json", StatusCodes.Status400BadRequest, $"Nothing was accepted: {parser.Error}.");
                    return;
                case ParseOutcome.RecordTooLarge:
                    await RefuseAsync(context, stream, "record_too_large", StatusCodes.Status413PayloadTooLarge, $"Nothing was accepted: {parser.Error}.");
                    return;
                case ParseOutcome.Invalid:
                    Reject(stream, "invalid_records", StatusCodes.Status400BadRequest, Summary(parser.Problems));
                    await WriteProblemsAsync(context.Response, parser.Problems);
                    return;
            }
            int count = parser.RecordCount;
            if (count > 0)
            {
                try
                {
                    if (stream.Definition.KafkaBacked)
                    {
                        // Only a keyed stream's producer reads the parsed records (for the keys); the rest is produced as sent.
                        using var records = stream.Definition.KeyIndex >= 0 ? parser.Build(stream.Definition.ArrowSchema) : null;
                        var producer = sources.Producer(stream) ?? throw new ObjectDisposedException(stream.Name);
                        await producer.ProduceAsync(buffer.AsMemory(0, length), parser.RecordSpans, records);
                    }
                    else
                        await stream.Log.AppendAsync(parser.SerializeForLog(), count);
                }
                catch (KafkaUnavailableException e)
                {
                    context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await RefuseAsync(context, stream, "kafka_unavailable", StatusCodes.Status503ServiceUnavailable, e.Message);
                    return;
                }
                catch (ObjectDisposedException)
                {
                    // Deleted while this request was parsed: nothing was kept.
                    await RefuseAsync(context, stream, "unknown_stream", StatusCodes.Status404NotFound, $"Stream '{name}' was deleted; nothing was accepted.");
                    return;
                }
                catch (IngestLogFullException e)
                {
                    context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await RefuseAsync(context, stream, "log_full", StatusCodes.Status429TooManyRequests, e.Message);
                    return;
                }
            }
            var labels = PipelineMetrics.Labels(("stream", name));
            metrics.Add("dataplane_stream_records_in_total", "Records accepted into the stream's ingest log.", labels, count);
            metrics.Add("dataplane_stream_bytes_in_total", "JSON bytes (after gzip) of accepted requests.", labels, length);
            metrics.Observe("dataplane_stream_ack_seconds", "Time from request start to acknowledgement (records on disk).", labels, Stopwatch.GetElapsedTime(started).TotalSeconds);
            stream.Activity.Accepted(count, length, DateTimeOffset.UtcNow);
            await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("accepted", count);
                w.WriteEndObject();
            });
        }
        finally
        {
            stream.ReturnParser(parser);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts a refusal (metrics by reason; the stream's activity with its message) and answers it.</summary>
    private Task RefuseAsync(HttpContext context, IngestStream? stream, string reason, int status, string message)
    {
        Reject(stream, reason, status, message);
        return JsonResponse.ErrorAsync(context.Response, status, message);
    }

    private void Reject(IngestStream? stream, string reason, int status, string message)
    {
        metrics.Add("dataplane_stream_rejected_requests_total", "Ingestion requests refused, by reason.", PipelineMetrics.Labels(("stream", stream?.Name ?? ""), ("reason", reason)), 1);
        stream?.Activity.Rejected(reason, status, message, DateTimeOffset.UtcNow);
    }

    /// <summary>The first problems in one line, for the stream's latest rejections.</summary>
    private static string Summary(List<IngestProblem> problems) =>
        $"{problems.Count} record problem(s): " + string.Join("; ", problems.Take(3).Select(p =>
            $"record {p.Record}{(p.Field is null ? "" : $", field '{p.Field}'")}: {p.Reason}")) + (problems.Count > 3 ? "; …" : "");

    private static Task WriteProblemsAsync(HttpResponse response, List<IngestProblem> problems) =>
        JsonResponse.WriteAsync(response, StatusCodes.Status400BadRequest, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", problems.Count >= RecordBatchParser.MaxProblems
                ? $"Nothing was accepted: records do not match the stream's schema (the first {RecordBatchParser.MaxProblems} problems are listed)."
                : $"Nothing was accepted: {problems.Count} problem(s) with records that do not match the stream's schema.");
            w.WriteStartArray("problems");
            foreach (var p in problems)
            {
                w.WriteStartObject();
                w.WriteNumber("record", p.Record);
                if (p.Field is null) w.WriteNull("field"); else w.WriteString("field", p.Field);
                w.WriteString("reason", p.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
}
