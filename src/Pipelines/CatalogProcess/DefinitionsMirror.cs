using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.CatalogProcess;

/// <summary>
/// Keeps an ingest or worker process's streams, sinks and pipelines the same as the catalog process's: every
/// <see cref="PipelinesOptions.DefinitionsPollSeconds"/> it reads their lists there and applies what was added, changed
/// (deleted and created again: another <c>created_at</c>, or other contents) or deleted to the local registries, in the
/// order their dependencies need (pipelines off before their streams and sinks; streams and sinks on before their
/// pipelines). The catalog process's definitions are the truth: one the catalog process does not have is deleted here.
/// A definition the catalog process could not load itself (<c>"state": "failed"</c>) is left as it is here.
/// </summary>
internal sealed class DefinitionsMirror(
    CatalogProcessClient catalog, StreamRegistry streams, StreamSources sources, SinkRegistry sinks, PipelineRegistry pipelines,
    PipelinesOptions options, ILogger<DefinitionsMirror> logger) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    // What was last applied (or tried) per definition, as its stored JSON: a definition that failed here is not tried
    // again every round, only once the catalog process's changes.
    private readonly Dictionary<string, string> _applied = new(StringComparer.Ordinal);
    // The catalog process's flush generation per pipeline last acted on here (FlushRequests).
    private readonly Dictionary<string, long> _flushed = new(StringComparer.Ordinal);
    private bool _unreachable;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.DefinitionsPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(stoppingToken);
                if (_unreachable)
                    logger.LogInformation("The catalog process at {Catalog} answers again; definitions are mirrored from it", catalog.Address);
                _unreachable = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException)
            {
                // Said once per outage, not every round: the definitions held here stay in use meanwhile.
                if (!_unreachable)
                    logger.LogWarning("Definitions cannot be read from the catalog process at {Catalog}: {Reason}; the ones held here stay in use, and it is asked again every {Seconds} s",
                        catalog.Address, e.Message, options.DefinitionsPollSeconds);
                _unreachable = true;
            }
            try { await Task.Delay(interval, stoppingToken); } catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Reads the catalog process's definitions now and applies them (after a forwarded write, so this process shows it at once).</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var streamList = await catalog.ListAsync("streams", cancellationToken);
            using var sinkList = await catalog.ListAsync("sinks", cancellationToken);
            using var pipelineList = await catalog.ListAsync("pipelines", cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var remoteStreams = Read(streamList, "streams", e => StreamDefinition.Parse(e, now), (d, w) => d.Write(w));
            var remoteSinks = Read(sinkList, "sinks", e => SinkDefinition.Parse(e, now), (d, w) => d.Write(w));
            var remotePipelines = Read(pipelineList, "pipelines", e => PipelineDefinition.Parse(e, now), (d, w) => d.Write(w));
            await ApplyAsync(remoteStreams, remoteSinks, remotePipelines);
            FlushRequested(pipelineList);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A worker flushes each pipeline whose flush generation at the catalog process is one it has not acted on (a flush
    /// asked there: <see cref="FlushRequests"/>), without waiting: the catalog process sees the commit in the table. Seen
    /// once more after a restart here, it flushes once more, which commits only what was read.
    /// </summary>
    private void FlushRequested(JsonDocument pipelineList)
    {
        if (!options.RunsPipelines)
            return;
        foreach (var item in pipelineList.RootElement.GetProperty("pipelines").EnumerateArray())
        {
            if (!item.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || n.GetString() is not { } name
                || !item.TryGetProperty("flush_generation", out var g) || !g.TryGetInt64(out long generation))
                continue;
            if (_flushed.TryGetValue(name, out long seen) && seen == generation)
                continue;
            _flushed[name] = generation;
            if (pipelines.Find(name) is { } runner)
                _ = FlushAsync(runner, generation);
        }
    }

    private async Task FlushAsync(PipelineRunner runner, long generation)
    {
        try
        {
            var commit = await runner.FlushAsync(CancellationToken.None);
            logger.LogInformation("Pipeline {Pipeline} flushed as the catalog process asked (generation {Generation}): snapshot {Snapshot}",
                runner.Definition.Name, generation, commit?.Id);
        }
        catch (InvalidOperationException e)
        {
            // Failed or stopped before it committed: the catalog process's flush says so by its timeout.
            logger.LogWarning("Pipeline {Pipeline} did not flush as the catalog process asked (generation {Generation}): {Reason}", runner.Definition.Name, generation, e.Message);
        }
    }

    /// <summary>A remote definition: parsed (null when the catalog process holds it as failed, or it does not parse here) and its stored JSON.</summary>
    private sealed record Remote<T>(T? Definition, string Json) where T : class;

    private Dictionary<string, Remote<T>> Read<T>(JsonDocument list, string kind, Func<JsonElement, T> parse, Action<T, Utf8JsonWriter> write) where T : class
    {
        var read = new Dictionary<string, Remote<T>>(StringComparer.Ordinal);
        if (list.RootElement.ValueKind != JsonValueKind.Object || !list.RootElement.TryGetProperty(kind, out var items) || items.ValueKind != JsonValueKind.Array)
            throw new JsonException($"The catalog process's GET /api/v1/{kind} has no \"{kind}\" array.");
        foreach (var item in items.EnumerateArray())
        {
            string? name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (name is null || !ResourceName.IsValid(name))
                continue;
            if (item.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String && state.GetString() == "failed")
            {
                read[name] = new Remote<T>(null, "");
                continue;
            }
            try
            {
                var definition = parse(item);
                read[name] = new Remote<T>(definition, Canonical(w => write(definition, w)));
            }
            catch (ArgumentException e)
            {
                // A definition this version cannot read (a newer catalog process's): left as it is here.
                if (_applied.GetValueOrDefault(Key(kind, name)) != e.Message)
                    logger.LogError("The catalog process's {Kind} {Name} cannot be read here: {Reason}", kind.TrimEnd('s'), name, e.Message);
                _applied[Key(kind, name)] = e.Message;
                read[name] = new Remote<T>(null, "");
            }
        }
        return read;
    }

    private async Task ApplyAsync(Dictionary<string, Remote<StreamDefinition>> remoteStreams, Dictionary<string, Remote<SinkDefinition>> remoteSinks,
        Dictionary<string, Remote<PipelineDefinition>> remotePipelines)
    {
        var localStreams = streams.List().ToDictionary(s => s.Name, s => (string?)Canonical(s.Definition.Write));
        foreach (var failed in streams.Failed()) localStreams[failed.Name] = null;
        var localSinks = sinks.List().ToDictionary(s => s.Name, s => (string?)Canonical(s.Write));
        foreach (var failed in sinks.Failed()) localSinks[failed.Name] = null;
        var runners = pipelines.List();
        var localPipelines = runners.ToDictionary(r => r.Definition.Name, r => (string?)Canonical(r.Definition.Write));
        foreach (var failed in pipelines.Failed()) localPipelines[failed.Name] = null;

        var streamsOff = Gone("streams", localStreams, remoteStreams);
        var sinksOff = Gone("sinks", localSinks, remoteSinks);
        var pipelinesOff = Gone("pipelines", localPipelines, remotePipelines);
        // A pipeline whose stream or sink goes (to come back changed) goes first, and comes back after them.
        foreach (var runner in runners)
            if (runner.Streams.Any(s => streamsOff.Contains(s.Name)) || runner.Sinks.Any(s => sinksOff.Contains(s.Name)))
                pipelinesOff.Add(runner.Definition.Name);

        foreach (var name in pipelinesOff)
            await Try("pipeline", name, async () =>
            {
                _applied.Remove(Key("pipelines", name));
                await pipelines.DeleteAsync(name);
            });
        foreach (var name in sinksOff)
            await Try("sink", name, () =>
            {
                _applied.Remove(Key("sinks", name));
                sinks.Delete(name);
                return Task.CompletedTask;
            });
        foreach (var name in streamsOff)
            await Try("stream", name, async () =>
            {
                _applied.Remove(Key("streams", name));
                await streams.DeleteAsync(name, () => sources.StopAsync(name));
            });

        foreach (var (name, remote) in remoteStreams)
            if (remote.Definition is { } definition && (streams.Find(name) ?? (object?)streams.FindFailed(name)) is null && Untried("streams", name, remote.Json))
                await Try("stream", name, () =>
                {
                    if (streams.TryCreate(definition, out var stream))
                        sources.Start(stream);
                    return Task.CompletedTask;
                });
        foreach (var (name, remote) in remoteSinks)
            if (remote.Definition is { } definition && (sinks.Find(name) ?? (object?)sinks.FindFailed(name)) is null && Untried("sinks", name, remote.Json))
                await Try("sink", name, () =>
                {
                    sinks.TryCreate(definition);
                    return Task.CompletedTask;
                });
        foreach (var (name, remote) in remotePipelines)
            if (remote.Definition is { } definition && (pipelines.Find(name) ?? (object?)pipelines.FindFailed(name)) is null && Untried("pipelines", name, remote.Json))
                await Try("pipeline", name, () => pipelines.AddMirroredAsync(definition));
    }

    /// <summary>The local ones to delete: gone from the catalog process (not merely failed there), or changed there.</summary>
    private HashSet<string> Gone<T>(string kind, Dictionary<string, string?> local, Dictionary<string, Remote<T>> remote) where T : class
    {
        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, json) in local)
        {
            if (!remote.TryGetValue(name, out var r))
                gone.Add(name);
            else if (r.Definition is not null && (json ?? _applied.GetValueOrDefault(Key(kind, name))) != r.Json)
                gone.Add(name);
        }
        return gone;
    }

    /// <summary>Whether the definition was not already tried here as it is (a failed one is tried again once it changes).</summary>
    private bool Untried(string kind, string name, string json)
    {
        if (_applied.GetValueOrDefault(Key(kind, name)) == json)
            return false;
        _applied[Key(kind, name)] = json;
        return true;
    }

    private async Task Try(string kind, string name, Func<Task> apply)
    {
        try
        {
            await apply();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or IOException or UnauthorizedAccessException)
        {
            logger.LogError("Mirroring {Kind} {Name} from the catalog process failed: {Reason}", kind, name, e.Message);
        }
    }

    private static string Key(string kind, string name) => kind + "/" + name;

    private static string Canonical(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
            write(w);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
