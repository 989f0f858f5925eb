using System.Buffers;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Pipelines.Sinks;
using DataPlane.SqlTransforms.Execution;
using ArrowSchema = Apache.Arrow.Schema;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The records a pipeline's statements fail on (a CAST that does not convert, a division by zero...), as rows for its
/// dead-letter sink: which pipeline and sink, the reason, the record's stream and offset, and the record itself as
/// JSON (a schemaless stream's record text as it came). A record that fails in two statements is two rows.
/// Built on the failure path only, per failing record; the runner's thread alone uses an instance.
/// </summary>
internal sealed class DeadLetters(string pipeline, string stream)
{
    /// <summary>The dead-letter sink's output schema (a new table is created with it).</summary>
    public static readonly ArrowSchema Schema = new(
    [
        new Field("pipeline", StringType.Default, nullable: false),
        new Field("sink", StringType.Default, nullable: false),
        new Field("reason", StringType.Default, nullable: false),
        new Field("description", StringType.Default, nullable: false),
        new Field("stream", StringType.Default, nullable: false),
        new Field("offset", Int64Type.Default, nullable: false),
        new Field("record", StringType.Default, nullable: false),
        new Field("failed_at", new TimestampType(TimeUnit.Microsecond, "UTC"), nullable: false),
    ], metadata: null);

    private readonly ArrayBufferWriter<byte> _json = new();
    private Utf8JsonWriter? _writer;
    private readonly List<(string Sink, int Row, RowErrorReason Reason)> _failures = [];

    public bool IsEmpty => _failures.Count == 0;

    public void Add(string sink, int row, RowErrorReason reason) => _failures.Add((sink, row, reason));

    /// <summary>The failures added since the last call, as one batch; <paramref name="records"/> is the source batch whose rows they name,
    /// of <paramref name="from"/> (a pipeline over several streams) or the pipeline's stream.</summary>
    public RecordBatch Take(RecordBatch records, long firstOffset, bool schemaless, string? from = null)
    {
        var pipelines = new StringArray.Builder();
        var sinks = new StringArray.Builder();
        var reasons = new StringArray.Builder();
        var descriptions = new StringArray.Builder();
        var streams = new StringArray.Builder();
        var offsets = new Int64Array.Builder();
        var texts = new StringArray.Builder();
        var times = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var now = DateTimeOffset.UtcNow;
        foreach (var (sink, row, reason) in _failures)
        {
            pipelines.Append(pipeline);
            sinks.Append(sink);
            reasons.Append(reason.Code);
            descriptions.Append(reason.Description);
            streams.Append(from ?? stream);
            offsets.Append(firstOffset + row);
            texts.Append(Record(records, row, schemaless));
            times.Append(now);
        }
        int count = _failures.Count;
        _failures.Clear();
        return new RecordBatch(Schema,
            [pipelines.Build(), sinks.Build(), reasons.Build(), descriptions.Build(), streams.Build(), offsets.Build(), texts.Build(), times.Build()], count);
    }

    private ReadOnlySpan<byte> Record(RecordBatch records, int row, bool schemaless)
    {
        if (schemaless)
            return ((StringArray)records.Column(0)).GetBytes(row);
        _json.Clear();
        _writer ??= new Utf8JsonWriter(_json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _writer.Reset(_json);
        ArrowJson.WriteRow(_writer, records, row);
        _writer.Flush();
        return _json.WrittenSpan;
    }
}
