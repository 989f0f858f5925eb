using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Pipelines.CatalogProcess;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Streams;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Execution;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary><c>/api/v1/pipelines</c>: create, validate, list, describe (state, offsets, lag, commits and records dropped per sink, errors), flush, delete.</summary>
internal sealed class PipelinesApi(PipelineRegistry pipelines, PipelinesOptions options, FlushRequests flushes)
{
    public async Task CreateAsync(HttpContext context)
    {
        using var json = await JsonResponse.ReadAsync(context);
        if (json is null)
            return;
        try
        {
            var definition = PipelineDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
            var runner = await pipelines.CreateAsync(definition);
            context.Response.Headers.Location = $"/api/v1/pipelines/{definition.Name}";
            await JsonResponse.WriteAsync(context.Response, StatusCodes.Status201Created, w => Write(w, runner));
        }
        catch (ArgumentException e) when (e.InnerException is SqlException sql)
        {
            await JsonResponse.SqlErrorAsync(context.Response, sql);
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, e.Message);
        }
        catch (KeyNotFoundException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status404NotFound, e.Message);
        }
        catch (InvalidOperationException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
        }
        catch (NotSupportedException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status501NotImplemented, e.Message);
        }
    }

    /// <summary>
    /// <c>POST /api/v1/pipelines/validate</c> <c>{"sql": "..."}</c>: compiles the SQL against its stream as a new pipeline
    /// would, and answers each statement's sink, output schema (the columns a new table gets) and plan as a graph; or a
    /// 400 with the error's line and column (404 for a stream that does not exist). Nothing is created.
    /// </summary>
    public async Task ValidateAsync(HttpContext context)
    {
        using var json = await JsonResponse.ReadAsync(context);
        if (json is null)
            return;
        var root = json.RootElement;
        string? sql = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("sql", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (string.IsNullOrWhiteSpace(sql))
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest,
                "The body is {\"sql\": \"INSERT INTO <sink> SELECT ... FROM <stream>\"}: the SQL to check.");
            return;
        }
        int preview = 0;
        if (root.TryGetProperty("preview", out var p) && p.ValueKind != JsonValueKind.Null
            && (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out preview) || preview < 1 || preview > StreamsApi.MaxRecentRecords))
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest,
                $"\"preview\" is how many of the stream's most recent records to run the SQL over: a whole number from 1 to {StreamsApi.MaxRecentRecords} (got {(p.GetRawText() is { Length: <= 40 } raw ? raw : p.GetRawText()[..40] + "...")}).");
            return;
        }
        IReadOnlyList<IngestStream> streams;
        SqlProgram program;
        Lookups.LookupTables? lookups;
        try
        {
            (streams, program, lookups) = await pipelines.CompileAsync(sql, context.RequestAborted);
        }
        catch (ArgumentException e) when (e.InnerException is SqlException error)
        {
            await JsonResponse.SqlErrorAsync(context.Response, error);
            return;
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        catch (KeyNotFoundException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status404NotFound, e.Message);
            return;
        }
        // The preview runs the statements over each stream's most recent records, held (not copied) until written.
        var held = new List<LogBatch>();
        var readers = new List<ArrowStreamReader>();
        try
        {
            IReadOnlyList<IReadOnlyList<RecordBatch>>? outputs = null;
            RowErrorLog? dropped = null;
            long records = 0;
            if (preview > 0)
            {
                var inputs = new Dictionary<string, IReadOnlyList<RecordBatch>>();
                foreach (var stream in streams)
                {
                    var batches = stream.RecentBatches(preview, out int skip);
                    held.AddRange(batches);
                    var read = new List<RecordBatch>();
                    foreach (var batch in batches)
                    {
                        var reader = new ArrowStreamReader(batch.Payload);
                        readers.Add(reader);
                        var next = reader.ReadNextRecordBatch();
                        read.Add(skip > 0 ? next.Slice(skip, next.Length - skip) : next);
                        skip = 0;
                    }
                    records += read.Sum(b => (long)b.Length);
                    inputs[stream.Name] = read;
                }
                if (lookups is not null)
                    await lookups.LoadAsync(context.RequestAborted);
                outputs = program.Run(inputs, out dropped, lookupRows: lookups is null ? null : lookups.Rows);
            }
            await WriteValidationAsync(context, streams, program, outputs, dropped, records);
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
            foreach (var batch in held) batch.Release();
        }
    }

    /// <summary>The most rows a preview answers per statement (UNNEST may make many of one record).</summary>
    public const int MaxPreviewRows = 1_000;

    private static Task WriteValidationAsync(HttpContext context, IReadOnlyList<IngestStream> streams, SqlProgram program,
        IReadOnlyList<IReadOnlyList<RecordBatch>>? outputs, RowErrorLog? dropped, long records) =>
        JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("stream", streams[0].Name);
            WriteStreams(w, streams);
            if (ScaleOut.For([.. streams.Select(s => s.Definition)], program) is { } scaleOut)
                w.WriteString("scale_out", scaleOut.Text);
            w.WriteStartArray("statements");
            for (int index = 0; index < program.Statements.Count; index++)
            {
                var statement = program.Statements[index];
                w.WriteStartObject();
                w.WriteString("sink", statement.Sink);
                w.WriteStartArray("schema");
                foreach (var column in ArrowSchemaMapping.ToIceberg(statement.OutputSchema).Columns)
                    TypeJson.WriteFieldWithoutId(w, column.Name, column.Type, column.Required);
                w.WriteEndArray();
                // An updating aggregate keeps one row per key: the columns the sink table identifies its rows by.
                if (statement.UpdatingKeys is { } keys)
                {
                    w.WriteStartArray("identifier_fields");
                    foreach (var key in keys)
                        w.WriteStringValue(key);
                    w.WriteEndArray();
                }
                var graph = statement.Graph();
                w.WriteStartObject("plan");
                w.WriteStartArray("nodes");
                foreach (var node in graph.Nodes)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", node.Id);
                    w.WriteString("operator", node.Operator);
                    w.WriteString("detail", node.Detail);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("edges");
                foreach (var edge in graph.Edges)
                {
                    w.WriteStartObject();
                    w.WriteNumber("from", edge.From);
                    w.WriteNumber("to", edge.To);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteString("explain", statement.Explain());
                // The operators that keep state across batches (checkpointed at each commit), with the keys they keep it per.
                w.WriteStartArray("stateful");
                foreach (var op in statement.StatefulOperators())
                {
                    w.WriteStartObject();
                    WriteStateful(w, op, detail: true);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (outputs is not null)
                {
                    w.WriteStartArray("preview");
                    int written = 0;
                    foreach (var batch in outputs[index])
                        for (int row = 0; row < batch.Length && written < MaxPreviewRows; row++, written++)
                            ArrowJson.WriteRow(w, batch, row);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (dropped is not null)
            {
                // What the statements dropped of the previewed records, per reason, with examples.
                w.WriteStartObject("preview");
                w.WriteNumber("records", records);
                w.WriteStartArray("dropped");
                foreach (var reason in dropped.Snapshot())
                    WriteDropped(w, reason);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });

    /// <summary>The pipelines and, by name among them, the stored ones that failed to load.</summary>
    public Task ListAsync(HttpContext context) =>
        JsonResponse.WriteListAsync(context.Response, "pipelines",
            pipelines.List().Select(r => (r.Definition.Name, (Action<Utf8JsonWriter>)(w => Write(w, r))))
                .Concat(pipelines.Failed().Select(f => (f.Name, (Action<Utf8JsonWriter>)(w => WriteFailed(w, f)))))
                .OrderBy(e => e.Item1, StringComparer.Ordinal),
            (w, e) => e.Item2(w));

    public Task GetAsync(HttpContext context, string name) =>
        pipelines.FindFailed(name) is { } failed
            ? JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w => WriteFailed(w, failed))
            : JsonResponse.WriteFoundAsync(context.Response, pipelines.Find(name), "pipeline", name, Write);

    public async Task FlushAsync(HttpContext context, string name)
    {
        if (pipelines.FindFailed(name) is { } failed)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, $"Pipeline '{name}' is not running: {failed.Reason}");
            return;
        }
        var runner = pipelines.Find(name);
        if (runner is null)
        {
            await NotFound(context, name);
            return;
        }
        // The catalog process runs no pipeline: it asks every worker, and waits for the table to show their commits.
        if (options.Role == ProcessRole.Catalog)
        {
            await flushes.HandleAsync(context, runner);
            return;
        }
        SinkCommit? commit;
        try
        {
            commit = await runner.FlushAsync(context.RequestAborted);
        }
        catch (InvalidOperationException e)
        {
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        catch (OperationCanceledException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The pipeline was deleted (or the server is stopping) while the flush waited.
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            if (commit is null) w.WriteNull("snapshot_id"); else w.WriteNumber("snapshot_id", commit.Id);
            w.WriteNumber("committed_offset", runner.CommittedOffset);
            if (commit is null) w.WriteNull("commit"); else WriteCommit(w, "commit", commit);
            w.WriteStartArray("sinks");
            foreach (var sink in runner.Sinks)
            {
                w.WriteStartObject();
                w.WriteString("name", sink.Name);
                w.WriteNumber("committed_offset", sink.CommittedOffset);
                if (sink.LastCommit is { } c) WriteCommit(w, "commit", c); else w.WriteNull("commit");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public async Task DeleteAsync(HttpContext context, string name)
    {
        if (!await pipelines.DeleteAsync(name))
        {
            await NotFound(context, name);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task NotFound(HttpContext context, string name) => JsonResponse.NotFoundAsync(context.Response, "pipeline", name);

    private void Write(Utf8JsonWriter w, PipelineRunner runner)
    {
        var d = runner.Definition;
        long end = runner.Stream.Log.EndOffset;
        long committed = runner.CommittedOffset;
        w.WriteStartObject();
        w.WriteString("name", d.Name);
        w.WriteString("sql", d.Sql);
        w.WriteString("stream", runner.Stream.Name);
        WriteStreams(w, runner.Streams, runner);
        w.WriteString("sink", runner.Sinks[0].Name);
        if (runner.DeadLetter is { } deadLetter) w.WriteString("dead_letter", deadLetter.Name); else w.WriteNull("dead_letter");
        w.WriteString("state", runner.State);
        // A Kafka-backed stream's: whether every worker runs it over its partitions, or one runs it all (and why).
        if (runner.ScaleOut is { } scaleOut) w.WriteString("scale_out", scaleOut.Text);
        // The catalog process's latest flush request, which the workers act on when they read it (FlushRequests).
        if (flushes.Requested(d.Name) is { } generation) w.WriteNumber("flush_generation", generation);
        w.WriteString("created_at", d.CreatedAt);
        w.WriteStartObject("offsets");
        w.WriteNumber("committed", committed);
        w.WriteNumber("read", runner.ReadOffset);
        w.WriteNumber("stream_end", end);
        w.WriteEndObject();
        w.WriteStartObject("lag");
        var kafka = runner.Stream.Definition.KafkaBacked ? runner.KafkaLag : null;
        // A Kafka-backed stream: the messages past what this worker has read, over the partitions it has.
        long lag = kafka is null ? end - committed : kafka.Sum(p => p.Lag ?? 0);
        w.WriteNumber("records", lag);
        var since = runner.LastCommit?.CommittedAt ?? runner.StartedAt;
        w.WriteNumber("seconds", lag > 0 ? Math.Round((DateTimeOffset.UtcNow - since).TotalSeconds, 3) : 0);
        if (kafka is not null)
        {
            w.WriteStartArray("partitions");
            foreach (var p in kafka)
            {
                w.WriteStartObject();
                w.WriteNumber("partition", p.Partition);
                w.WriteNumber("next_offset", p.NextOffset);
                if (p.HighWatermark >= 0) w.WriteNumber("high_watermark", p.HighWatermark); else w.WriteNull("high_watermark");
                if (p.Lag is { } l) w.WriteNumber("lag", l); else w.WriteNull("lag");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteStartObject("records");
        w.WriteNumber("in", runner.RecordsIn);
        w.WriteNumber("out", runner.RecordsOut);
        w.WriteEndObject();
        runner.Lookups?.Write(w);
        if (runner.LastCommit is { } commit) WriteCommit(w, "last_commit", commit); else w.WriteNull("last_commit");
        // Each sink's own offsets and commits (a pipeline's top-level figures are its first sink's, and the least offsets).
        w.WriteStartArray("sinks");
        foreach (var sink in runner.Sinks)
        {
            w.WriteStartObject();
            w.WriteString("name", sink.Name);
            w.WriteString("role", sink.IsDeadLetter ? "dead_letter" : "insert");
            w.WriteNumber("committed_offset", sink.CommittedOffset);
            w.WriteNumber("records_out", sink.RecordsOut);
            if (sink.LastCommit is { } c) WriteCommit(w, "last_commit", c); else w.WriteNull("last_commit");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        // Records the statements failed on, per sink and reason, with recent examples.
        w.WriteStartObject("dropped");
        w.WriteNumber("records", runner.Sinks.Sum(s => s.DroppedTotal));
        w.WriteStartArray("reasons");
        foreach (var sink in runner.Sinks)
            foreach (var dropped in sink.Dropped())
                WriteDropped(w, dropped, sink.Name);
        w.WriteEndArray();
        w.WriteEndObject();
        WriteState(w, runner);
        w.WriteStartArray("errors");
        if (runner.LastError is { } error)
        {
            w.WriteStartObject();
            w.WriteString("at", runner.LastErrorAt!.Value);
            w.WriteString("message", error);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Records dropped for one reason: <c>{"sink"?, "reason", "description", "records", "samples"}</c>.</summary>
    private static void WriteDropped(Utf8JsonWriter w, RowErrorCount dropped, string? sink = null)
    {
        w.WriteStartObject();
        if (sink is not null)
            w.WriteString("sink", sink);
        w.WriteString("reason", dropped.Reason.Code);
        w.WriteString("description", dropped.Reason.Description);
        w.WriteNumber("records", dropped.Count);
        w.WriteStartArray("samples");
        foreach (var sample in dropped.RecentSamples)
            w.WriteStringValue(sample);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The statements with state (windows, a watermark): per statement its stream's watermark, the records it dropped as
    /// late, its last checkpoint (written with a commit, or restored at start) and each stateful operator with its share
    /// of that checkpoint.
    /// </summary>
    private static void WriteState(Utf8JsonWriter w, PipelineRunner runner)
    {
        w.WriteNumber("late_records", runner.Sinks.Sum(s => s.LateRecords));
        w.WriteStartArray("stateful");
        foreach (var sink in runner.Sinks)
        {
            if (sink.Execution is not { HasState: true } execution)
                continue;
            w.WriteStartObject();
            w.WriteString("sink", sink.Name);
            // Over several streams: the least of theirs, what a join of them has reached, and each one's.
            var marks = runner.Streams.Select(s => sink.Watermark(s.Name)).ToList();
            if (marks.All(m => m is not null) && marks.Min() is { } watermark && watermark != long.MaxValue)
                w.WriteString("watermark", DateTimeOffset.UnixEpoch.AddTicks(watermark * 10));
            else
                w.WriteNull("watermark");
            if (runner.Streams.Count > 1)
            {
                w.WriteStartObject("watermarks");
                for (int i = 0; i < marks.Count; i++)
                    if (marks[i] is { } mark && mark != long.MaxValue)
                        w.WriteString(runner.Streams[i].Name, DateTimeOffset.UnixEpoch.AddTicks(mark * 10));
                    else
                        w.WriteNull(runner.Streams[i].Name);
                w.WriteEndObject();
            }
            w.WriteNumber("late_records", sink.LateRecords);
            w.WriteStartArray("operators");
            foreach (var op in execution.StatefulOperators)
            {
                w.WriteStartObject();
                w.WriteString("operator", op.Name);
                WriteStateful(w, op.Plan, detail: false);
                w.WriteNumber("records_in", op.RecordsIn);
                w.WriteNumber("records_out", op.RecordsOut);
                if (op.StateBytes is { } b) w.WriteNumber("state_bytes", b); else w.WriteNull("state_bytes");
                if (op.Watermark is { } mark) w.WriteString("watermark", DateTimeOffset.UnixEpoch.AddTicks(mark * 10)); else w.WriteNull("watermark");
                w.WriteNumber("late_records", op.LateRecords);
                // The statement's operators share one checkpoint: this one's part of it, written in the statement's time.
                if (sink.LastCheckpoint is { } written && op.StateBytes is { } part)
                {
                    w.WriteStartObject("last_checkpoint");
                    w.WriteNumber("bytes", part);
                    w.WriteNumber("duration_ms", Math.Round(written.Duration.TotalMilliseconds, 3));
                    w.WriteString("at", written.At);
                    w.WriteEndObject();
                }
                else
                    w.WriteNull("last_checkpoint");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (sink.LastCheckpoint is { } checkpoint)
            {
                w.WriteStartObject("last_checkpoint");
                w.WriteString("location", checkpoint.Location);
                w.WriteNumber("bytes", checkpoint.Bytes);
                w.WriteNumber("end_offset", checkpoint.EndOffset);
                w.WriteNumber("duration_ms", Math.Round(checkpoint.Duration.TotalMilliseconds, 3));
                w.WriteString("at", checkpoint.At);
                w.WriteBoolean("restored", checkpoint.Restored);
                w.WriteEndObject();
            }
            else
                w.WriteNull("last_checkpoint");
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>A stateful operator as the plan has it: its node in the statement's graph, its kind (and what it does), the keys its state is kept per.</summary>
    private static void WriteStateful(Utf8JsonWriter w, SqlStatefulOperator op, bool detail)
    {
        w.WriteNumber("node", op.Node);
        w.WriteString(detail ? "operator" : "kind", op.Operator);
        if (detail) w.WriteString("detail", op.Detail);
        w.WriteStartArray("keys");
        foreach (var key in op.Keys)
            w.WriteStringValue(key);
        w.WriteEndArray();
    }

    /// <summary>
    /// A pipeline over several streams names them all (<c>"streams"</c>, in its SQL's order; <c>"stream"</c> is the first),
    /// with, for a running one, the offset it reads next in each one's log and the log's end.
    /// </summary>
    private static void WriteStreams(Utf8JsonWriter w, IReadOnlyList<IngestStream> streams, PipelineRunner? runner = null)
    {
        if (streams.Count == 1)
            return;
        w.WriteStartArray("streams");
        for (int i = 0; i < streams.Count; i++)
        {
            w.WriteStartObject();
            w.WriteString("name", streams[i].Name);
            if (runner is not null)
            {
                w.WriteNumber("read", runner.ReadOffsetOf(i));
                w.WriteNumber("stream_end", streams[i].Log.EndOffset);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>A pipeline that failed to load: the shape of a running one's answer, with what is known.</summary>
    private static void WriteFailed(Utf8JsonWriter w, FailedDefinition failed)
    {
        w.WriteStartObject();
        w.WriteString("name", failed.Name);
        w.WriteNull("sql");
        w.WriteNull("stream");
        w.WriteNull("sink");
        w.WriteString("state", "failed");
        w.WriteStartArray("errors");
        w.WriteStartObject();
        w.WriteString("at", failed.FailedAt);
        w.WriteString("message", failed.Reason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCommit(Utf8JsonWriter w, string property, SinkCommit commit)
    {
        w.WriteStartObject(property);
        w.WriteNumber("snapshot_id", commit.Id);
        w.WriteNumber("start_offset", commit.StartOffset);
        w.WriteNumber("end_offset", commit.EndOffset);
        w.WriteNumber("records", commit.Records);
        w.WriteNumber("files", commit.Files);
        w.WriteString("committed_at", commit.CommittedAt);
        w.WriteEndObject();
    }
}
