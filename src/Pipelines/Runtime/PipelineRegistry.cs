using System.Text.Json;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Pipelines.Lookups;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Streams;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The pipelines of this server: definitions under <c>&lt;dir&gt;/pipelines/</c> (with each one's journal of files
/// written since its last commit, <c>&lt;name&gt;.files</c>), each with a running
/// <see cref="PipelineRunner"/>. Started with the host, so after a restart every pipeline resumes from its sink's
/// last commit.
/// </summary>
internal sealed class PipelineRegistry : IHostedService, IAsyncDisposable
{
    private readonly string _root;
    private readonly PipelinesOptions _options;
    private readonly StreamRegistry _streams;
    private readonly SinkRegistry _sinks;
    private readonly PipelineMetrics _metrics;
    private readonly ILoggerFactory _loggers;
    private readonly LookupSources _lookups;
    private readonly DefinitionSet<PipelineRunner> _runners = new("pipeline", r => r.Definition.Name);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public PipelineRegistry(PipelinesOptions options, StreamRegistry streams, SinkRegistry sinks, PipelineMetrics metrics, ILoggerFactory loggers, LookupSources lookups)
    {
        _lookups = lookups;
        _root = Path.Combine(Path.GetFullPath(options.Directory), "pipelines");
        _options = options;
        _streams = streams;
        _sinks = sinks;
        _metrics = metrics;
        _loggers = loggers;
        Directory.CreateDirectory(_root);
        metrics.AddGauges("dataplane_pipeline_lag_records", "Records acknowledged by the stream but not yet committed by the pipeline.",
            () => List().Where(r => !r.Stream.Definition.KafkaBacked && r.Streams.Count == 1) // whose offsets count messages of the run, not of a log
                .Select(r => (PipelineMetrics.Labels(("pipeline", r.Definition.Name)), (double)(r.Stream.Log.EndOffset - r.CommittedOffset))));
        metrics.AddGauges("dataplane_pipeline_kafka_lag_records", "Messages of a Kafka-backed stream's partition past the next offset this worker reads (high watermark last seen minus it), per partition the worker has.",
            () => List().SelectMany(r => r.KafkaLag.Where(p => p.Lag is not null).Select(p =>
                (PipelineMetrics.Labels(("pipeline", r.Definition.Name), ("partition", p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture))), (double)p.Lag!.Value))));
        metrics.AddGauges("dataplane_pipeline_operator_state_bytes", "A stateful operator's part of its statement's last checkpoint.",
            () => StatefulOperators().Where(o => o.Operator.StateBytes is not null).Select(o => (o.Labels, (double)o.Operator.StateBytes!.Value)));
        metrics.AddGauges("dataplane_pipeline_operator_watermark_seconds", "The watermark a stateful operator has reached, in seconds since the epoch.",
            () => StatefulOperators().Where(o => o.Operator.Watermark is not null).Select(o => (o.Labels, o.Operator.Watermark!.Value / 1e6)));
    }

    /// <summary>Each running statement's stateful operators with their labels (pipeline, sink, operator, and node: its id in the statement's plan).</summary>
    private IEnumerable<(MetricLabels Labels, SqlOperatorStatus Operator)> StatefulOperators() =>
        List().SelectMany(r => r.Sinks.Where(s => s.Execution is { HasState: true }).SelectMany(s => s.Execution!.StatefulOperators.Select(op =>
            (PipelineMetrics.Labels(("pipeline", r.Definition.Name), ("sink", s.Name), ("operator", op.Name), ("node", op.Plan.Node.ToString(System.Globalization.CultureInfo.InvariantCulture))), op))));

    public IReadOnlyList<PipelineRunner> List() => _runners.List();

    public PipelineRunner? Find(string name) => _runners.Find(name);

    /// <summary>Stored pipelines that could not be loaded or started at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed() => _runners.Failed();

    public FailedDefinition? FindFailed(string name) => _runners.FindFailed(name);

    /// <summary>Starts every stored pipeline; one that cannot load or start is logged, kept as failed and skipped.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var file in Directory.EnumerateFiles(_root, "*.json").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(file, cancellationToken));
                var definition = PipelineDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
                if (definition.Name != name)
                    throw new InvalidDataException($"it names pipeline '{definition.Name}' but is stored as '{name}'.");
                await StartAsync(definition, cancellationToken);
            }
            catch (Exception e) when (FailedDefinition.IsLoadFailure(e))
            {
                var failed = FailedDefinition.From("pipeline", name, $"pipelines/{name}.json", e);
                _loggers.CreateLogger<PipelineRegistry>().LogError("Pipeline {Pipeline} is skipped: {Reason}", name, failed.Reason);
                _runners.AddFailed(failed);
            }
        }
    }

    /// <summary>Validates and starts a new pipeline; throws <see cref="ArgumentException"/> (400), <see cref="KeyNotFoundException"/> (404) or <see cref="InvalidOperationException"/> (409).</summary>
    public async Task<PipelineRunner> CreateAsync(PipelineDefinition definition)
    {
        await _gate.WaitAsync();
        try
        {
            if (_runners.Contains(definition.Name))
                throw new InvalidOperationException(_runners.NameTaken(definition.Name));
            int count = _runners.Count;
            if (count >= _options.MaxPipelines)
                throw new InvalidOperationException(PipelinesOptions.LimitReached("pipeline", count, _options.MaxPipelines, nameof(PipelinesOptions.MaxPipelines)));
            var runner = await StartAsync(definition, CancellationToken.None, checkTables: true);
            DefinitionFile.Write(Path.Combine(_root, definition.Name + ".json"), definition.Write);
            return runner;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Adds a pipeline the catalog process holds (<see cref="CatalogProcess.DefinitionsMirror"/>): stored, then started as a
    /// stored one is at start-up (the catalog process checked it when it was created); one that cannot start here is kept
    /// as failed with the reason, as at start-up.
    /// </summary>
    public async Task AddMirroredAsync(PipelineDefinition definition)
    {
        await _gate.WaitAsync();
        try
        {
            if (_runners.Contains(definition.Name))
                return;
            DefinitionFile.Write(Path.Combine(_root, definition.Name + ".json"), definition.Write);
            try
            {
                await StartAsync(definition, CancellationToken.None);
            }
            catch (Exception e) when (FailedDefinition.IsLoadFailure(e))
            {
                var failed = FailedDefinition.From("pipeline", definition.Name, $"pipelines/{definition.Name}.json", e);
                _loggers.CreateLogger<PipelineRegistry>().LogError("Pipeline {Pipeline} from the catalog process does not start here: {Reason}", definition.Name, failed.Reason);
                _runners.AddFailed(failed);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Compiles the pipeline's SQL against its stream and starts it. A statement's sink must be free (no other pipeline
    /// writes it) and, with <paramref name="checkTables"/> (a new pipeline), its output must fit the table the sink
    /// writes when that table exists (<see cref="SinkSchemaMatch"/>; the runner checks again at each start).
    /// </summary>
    private async Task<PipelineRunner> StartAsync(PipelineDefinition definition, CancellationToken cancellationToken, bool checkTables = false)
    {
        var (streams, program, lookups) = await CompileAsync(definition.Sql, cancellationToken);
        var names = program.Statements.Select(s => s.Sink!).Concat(definition.DeadLetter is { } d ? [d] : []).ToList();
        var definitions = new List<SinkDefinition>();
        foreach (var name in names)
        {
            var sink = _sinks.Find(name) ?? throw new KeyNotFoundException(_sinks.FindFailed(name) is { } failedSink
                ? $"Sink '{name}' ({Role(definition, name)}) failed to load: {failedSink.Reason}"
                : $"No sink named '{name}' ({Role(definition, name)}); create it with POST /api/v1/sinks.");
            if (definition.DeadLetter == name && program.Statements.Any(s => s.Sink == name))
                throw new ArgumentException($"Sink '{name}' is both written by INSERT INTO and the pipeline's dead_letter; the dead-letter sink takes the failed records alone.");
            if (List().FirstOrDefault(r => r.Definition.Name != definition.Name && r.Writes(name)) is { } writer)
                throw new InvalidOperationException($"Sink '{name}' is already written by pipeline '{writer.Definition.Name}'; a sink has one pipeline.");
            // A folder's commits have no place for a Kafka-backed stream's partition offsets yet.
            if (streams[0].Definition.KafkaBacked && sink.Type != SinkDefinition.Iceberg)
                throw new ArgumentException($"Sink '{name}' is a {sink.Type} sink; a pipeline over the Kafka-backed stream '{streams[0].Name}' writes Iceberg sinks only.");
            definitions.Add(sink);
        }
        var sinks = new List<PipelineSink>();
        for (int i = 0; i < definitions.Count; i++)
        {
            var sink = definitions[i];
            bool deadLetter = i == program.Statements.Count;
            var statement = deadLetter ? null : program.Statements[i];
            var output = statement?.OutputSchema ?? DeadLetters.Schema;
            var outputSchema = ArrowSchemaMapping.ToIceberg(output);
            var keys = statement?.UpdatingKeys;
            if (keys is not null)
            {
                if (sink.Type != SinkDefinition.Iceberg)
                    throw new ArgumentException($"INSERT INTO {sink.Name}: an updating aggregate (GROUP BY keys without a window) keeps one row per key, which needs an Iceberg sink (its commits replace rows); sink '{sink.Name}' is a {sink.Type} sink.");
                // The keys identify the table's rows: its identifier fields (required columns; the engine drops records with a NULL key).
                outputSchema = new IcebergSchema(outputSchema.SchemaId, outputSchema.Columns, keys.Select(k => outputSchema.Columns.First(c => c.Name == k).Id));
            }
            // The sink's partition terms name columns of this output: checked now, not at the first commit.
            if (sink.Type == SinkDefinition.Iceberg)
            {
                var spec = PartitionTerms.Build(outputSchema, sink.Partition);
                if (keys is not null && spec.Fields.FirstOrDefault(f => !outputSchema.IdentifierFieldIds.Contains(f.SourceId)) is { } outside)
                    throw new ArgumentException($"INSERT INTO {sink.Name}: sink '{sink.Name}' partitions by column '{outputSchema.FindColumnName(outside.SourceId)}', which is not a GROUP BY key " +
                        $"({string.Join(", ", keys)}): a key's new row could land in another partition than its old one, which an equality delete would not reach; partition by the keys only.");
            }
            // A file sink's path may have become a namespace's folder or a table's location since the sink was created:
            // its start would remove files there (where pipelines run: a catalog or ingest process only holds them).
            if (_options.RunsPipelines)
                await _sinks.CheckPathAsync(sink, cancellationToken);
            // A schemaless stream's SELECT * is its records' JSON text, which NDJSON file sinks write as is.
            var target = _sinks.OpenTarget(sink, outputSchema, rawRecords: streams.Count == 1 && streams[0].Definition.Schemaless && statement?.SelectsAll == true);
            // The first sink's journal keeps the name a pipeline's one journal has always had.
            var journal = new UncommittedFileJournal(Path.Combine(_root, i == 0 ? definition.Name + ".files" : $"{definition.Name}.{sink.Name}.files"));
            var pipelineSink = new PipelineSink(sink, deadLetter ? -1 : i, output, target, journal) { UpdatingKeys = keys };
            if (checkTables)
                SinkSchemaMatch.For(output, await target.TableSchemaAsync(cancellationToken), PipelineRunner.Describe(pipelineSink), keys);
            sinks.Add(pipelineSink);
        }
        var statements = sinks.Where(s => !s.IsDeadLetter).ToList();
        var runner = new PipelineRunner(definition, streams, program, statements, sinks.FirstOrDefault(s => s.IsDeadLetter),
            _metrics, _loggers.CreateLogger($"DataPlane.Pipelines.{definition.Name}"), _options.MaxStateBytes, _options.MaxRecordBytes,
            new StateOptions
            {
                Shards = definition.Parallelism ?? (_options.StateShards > 0 ? _options.StateShards : Environment.ProcessorCount),
                MemoryBytes = _options.StateMemoryBytes,
                SpillDirectory = Directory.CreateDirectory(Path.Combine(_options.Directory, "state-spill")).FullName,
            })
        { Lookups = lookups };
        _runners.Add(runner);
        // A catalog or ingest process keeps the pipeline (checked, compiled, its stream held) but runs it nowhere: workers do.
        if (_options.RunsPipelines)
            runner.Start();
        return runner;
    }

    private static string Role(PipelineDefinition definition, string sink) =>
        definition.DeadLetter == sink ? "the pipeline's dead_letter" : $"INSERT INTO {sink}";

    /// <summary>
    /// The pipeline's SQL compiled against the streams it reads (in the order it names them): an <see cref="ArgumentException"/>
    /// (400) with the line, column and caret of what is wrong, a <see cref="KeyNotFoundException"/> (404) for a stream that does not exist.
    /// </summary>
    public (IReadOnlyList<IngestStream> Streams, SqlProgram Program) Compile(string sql) => Compile(sql, []);

    /// <summary>
    /// <see cref="Compile(string)"/> with the tables its lookup joins read (a <see cref="KeyNotFoundException"/> naming
    /// one that does not exist, an <see cref="ArgumentException"/> naming one past <see cref="PipelinesOptions.MaxLookupTableBytes"/>),
    /// and a run's view of those tables (null when there are none).
    /// </summary>
    public async Task<(IReadOnlyList<IngestStream> Streams, SqlProgram Program, LookupTables? Lookups)> CompileAsync(string sql, CancellationToken cancellationToken)
    {
        var tables = await _lookups.ResolveAsync(sql, cancellationToken);
        var (streams, program) = Compile(sql, tables);
        return (streams, program, tables.Count == 0 ? null : _lookups.Open(tables));
    }

    private (IReadOnlyList<IngestStream> Streams, SqlProgram Program) Compile(string sql, IReadOnlyList<(ILookupSource Source, Apache.Arrow.Schema Schema)> lookups)
    {
        try
        {
            return CompileOnce(sql, lookups);
        }
        catch (SqlException first)
        {
            // A name the older pipeline SQL took unquoted (end, offset, left...): the same statement with it quoted.
            var error = first;
            var text = sql;
            for (int i = 0; i < OlderPipelineNames.MaxQuoted && OlderPipelineNames.TryQuote(text, error.Offset, out text); i++)
            {
                try
                {
                    return CompileOnce(text, lookups);
                }
                catch (SqlException next)
                {
                    error = next;
                }
            }
            throw new ArgumentException(first.Message, first);
        }
    }

    private (IReadOnlyList<IngestStream> Streams, SqlProgram Program) CompileOnce(string sql, IReadOnlyList<(ILookupSource Source, Apache.Arrow.Schema Schema)> lookups)
    {
        var sources = SqlProgram.SourceNames(sql);
        if (sources.Count == 0)
            throw new ArgumentException("The pipeline's SQL reads no stream; its statements are INSERT INTO <sink> SELECT ... FROM <stream>.");
        var streams = new List<IngestStream>();
        foreach (var name in sources)
        {
            var stream = _streams.Find(name) ?? _streams.Find(name.ToLowerInvariant())
                ?? throw new KeyNotFoundException(_streams.FindFailed(name) is { } failedStream
                    ? $"Stream '{name}' (FROM {name}) failed to load: {failedStream.Reason}"
                    : $"No stream named '{name}' (FROM {name}); create it with POST /api/v1/streams.");
            if (streams.Contains(stream))
                continue;
            // A Kafka-backed stream's records are its topic's, read one partition per batch by the run: a pipeline joins local logs only.
            if (stream.Definition.KafkaBacked && sources.Count > 1)
                throw new ArgumentException($"The pipeline's SQL reads {string.Join(", ", sources)}, and stream '{stream.Name}' is Kafka-backed (its log is its topic): " +
                    "a pipeline over several streams reads their local logs. Give the topic a stream with a Kafka \"source\" instead, which the pipeline can join.");
            streams.Add(stream);
        }
        // A stream's JSON may declare its watermark: the SQL then runs as if it declared it (and may not declare another).
        var program = SqlProgram.Compile(sql, streams.ToDictionary(s => s.Name, s => s.Definition.ArrowSchema), SqlMode.Streaming,
            watermarks: streams.Where(s => s.Definition.Watermark is not null).ToDictionary(s => s.Name, s => s.Definition.Watermark!.Definition),
            lookups: lookups.ToDictionary(l => l.Source.Name, l => l.Schema, StringComparer.Ordinal));
        if (program.Statements.Count == 0)
            throw new ArgumentException("The pipeline's SQL has no statement; it is INSERT INTO <sink> SELECT ... FROM <stream>.");
        return (streams, program);
    }

    public async Task<bool> DeleteAsync(string name)
    {
        await _gate.WaitAsync();
        try
        {
            PipelineRunner? runner;
            lock (_runners.Gate)
            {
                if (_runners.RemoveFailed(name))
                {
                    // Safe: the definition file the failed pipeline was loaded from (its key is that file's name, from the
                    // listing of our own folder); no runner exists. Its journal stays for a pipeline of that name to settle.
                    File.Delete(Path.Combine(_root, name + ".json"));
                    return true;
                }
                if (!_runners.Remove(name, out runner))
                    return false;
            }
            await runner.DisposeAsync();
            await runner.RemoveUncommittedAfterStopAsync(CancellationToken.None);
            foreach (var stream in runner.Streams)
                stream.RemoveReader(name);
            // Safe: the pipeline's own definition (its name passed ResourceName), its runner stopped and its journal settled
            // above; last, so a crash before here restarts the pipeline as if it had not been deleted.
            File.Delete(Path.Combine(_root, name + ".json"));
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var runner in List())
            await runner.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync(default));
}
