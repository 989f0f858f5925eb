using System.Text.Json;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sql;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
    private readonly Dictionary<string, PipelineRunner> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FailedDefinition> _failed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public PipelineRegistry(PipelinesOptions options, StreamRegistry streams, SinkRegistry sinks, PipelineMetrics metrics, ILoggerFactory loggers)
    {
        _root = Path.Combine(Path.GetFullPath(options.Directory), "pipelines");
        _options = options;
        _streams = streams;
        _sinks = sinks;
        _metrics = metrics;
        _loggers = loggers;
        Directory.CreateDirectory(_root);
        metrics.AddGauges("dataplane_pipeline_lag_records", "Records acknowledged by the stream but not yet committed by the pipeline.",
            () => List().Select(r => (PipelineMetrics.Labels(("pipeline", r.Definition.Name)), (double)(r.Stream.Log.EndOffset - r.CommittedOffset))));
    }

    public IReadOnlyList<PipelineRunner> List()
    {
        lock (_runners)
            return _runners.Values.OrderBy(r => r.Definition.Name, StringComparer.Ordinal).ToList();
    }

    public PipelineRunner? Find(string name)
    {
        lock (_runners)
            return _runners.GetValueOrDefault(name);
    }

    /// <summary>Stored pipelines that could not be loaded or started at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed()
    {
        lock (_runners)
            return _failed.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public FailedDefinition? FindFailed(string name)
    {
        lock (_runners)
            return _failed.GetValueOrDefault(name);
    }

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
                lock (_runners)
                    _failed[name] = failed;
            }
        }
    }

    /// <summary>Validates and starts a new pipeline; throws <see cref="ArgumentException"/> (400), <see cref="KeyNotFoundException"/> (404) or <see cref="InvalidOperationException"/> (409).</summary>
    public async Task<PipelineRunner> CreateAsync(PipelineDefinition definition)
    {
        await _gate.WaitAsync();
        try
        {
            if (Find(definition.Name) is not null)
                throw new InvalidOperationException($"A pipeline named '{definition.Name}' already exists; delete it first or pick another name.");
            if (FindFailed(definition.Name) is not null)
                throw new InvalidOperationException($"A pipeline named '{definition.Name}' is stored but failed to load (GET /api/v1/pipelines/{definition.Name} says why); delete it first or pick another name.");
            int count;
            lock (_runners)
                count = _runners.Count + _failed.Count;
            if (count >= _options.MaxPipelines)
                throw new InvalidOperationException(PipelinesOptions.LimitReached("pipeline", count, _options.MaxPipelines, nameof(PipelinesOptions.MaxPipelines)));
            var writer = List().FirstOrDefault(r => r.Sink.Name == definition.Statement.Sink);
            if (writer is not null)
                throw new InvalidOperationException($"Sink '{definition.Statement.Sink}' is already written by pipeline '{writer.Definition.Name}'; a sink has one pipeline.");
            var runner = await StartAsync(definition, CancellationToken.None);
            DefinitionFile.Write(Path.Combine(_root, definition.Name + ".json"), definition.Write);
            return runner;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<PipelineRunner> StartAsync(PipelineDefinition definition, CancellationToken cancellationToken)
    {
        var statement = definition.Statement;
        var stream = _streams.Find(statement.Stream)
            ?? throw new KeyNotFoundException(_streams.FindFailed(statement.Stream) is { } failedStream
                ? $"Stream '{statement.Stream}' (FROM {statement.Stream}) failed to load: {failedStream.Reason}"
                : $"No stream named '{statement.Stream}' (FROM {statement.Stream}); create it with POST /api/v1/streams.");
        var sink = _sinks.Find(statement.Sink)
            ?? throw new KeyNotFoundException(_sinks.FindFailed(statement.Sink) is { } failedSink
                ? $"Sink '{statement.Sink}' (INSERT INTO {statement.Sink}) failed to load: {failedSink.Reason}"
                : $"No sink named '{statement.Sink}' (INSERT INTO {statement.Sink}); create it with POST /api/v1/sinks.");
        var transform = new BatchTransform(stream.Definition, statement);
        // The sink's partition terms name columns of this output: checked now, not at the first commit.
        if (sink.Type == SinkDefinition.Iceberg)
            PartitionTerms.Build(transform.OutputSchema.IcebergSchema, sink.Partition);
        // A file sink's path may have become a namespace's folder or a table's location since the sink was created:
        // its start would remove files there.
        await _sinks.CheckPathAsync(sink, cancellationToken);
        // A schemaless stream's SELECT * is its records' JSON text, which NDJSON file sinks write as is.
        var target = _sinks.OpenTarget(sink, transform.OutputSchema.IcebergSchema, rawRecords: transform.OutputSchema.Schemaless);
        var journal = new UncommittedFileJournal(Path.Combine(_root, definition.Name + ".files"));
        var runner = new PipelineRunner(definition, stream, sink, target, journal, transform, _metrics, _loggers.CreateLogger($"DataPlane.Pipelines.{definition.Name}"));
        lock (_runners)
            _runners[definition.Name] = runner;
        runner.Start();
        return runner;
    }

    public async Task<bool> DeleteAsync(string name)
    {
        await _gate.WaitAsync();
        try
        {
            PipelineRunner? runner;
            lock (_runners)
            {
                if (_failed.Remove(name))
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
            runner.Stream.RemoveReader(name);
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
