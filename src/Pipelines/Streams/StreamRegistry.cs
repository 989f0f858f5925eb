using System.Text.Json;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Metrics;
using DataPlane.Storage.Durability;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// The streams of this server: definitions in <c>&lt;dir&gt;/streams/&lt;name&gt;/stream.json</c>, each with its
/// ingest log in <c>log/</c> next to it. Loaded on start, so a restart reopens every log (cutting torn tails).
/// </summary>
internal sealed class StreamRegistry : IAsyncDisposable
{
    private const string DefinitionFile = "stream.json";

    private readonly string _root;
    private readonly IngestLogOptions _logOptions;
    private readonly DefinitionSet<IngestStream> _streams = new("stream", s => s.Name);
    // Names whose folder a delete is still removing: a stream created under one meanwhile would get that folder.
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    private readonly int _maxStreams;
    private readonly TimeSpan _idleAfter;
    private readonly Timer _idleTimer;
    private int _trimming;
    private readonly ILogger<StreamRegistry> _logger;

    public StreamRegistry(PipelinesOptions options, PipelineMetrics metrics, ILogger<StreamRegistry> logger)
    {
        _logger = logger;
        _maxStreams = options.MaxStreams;
        _idleAfter = TimeSpan.FromSeconds(options.StreamIdleSeconds);
        _root = Path.Combine(Path.GetFullPath(options.Directory), "streams");
        _logOptions = new IngestLogOptions { MaxBytes = options.MaxLogBytes, SegmentBytes = options.SegmentBytes, TailBytes = options.LogTailBytes };
        Directory.CreateDirectory(_root);
        foreach (var dir in Directory.EnumerateDirectories(_root))
        {
            var file = Path.Combine(dir, DefinitionFile);
            if (!File.Exists(file))
                continue;
            string name = Path.GetFileName(dir);
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(file));
                var definition = StreamDefinition.Parse(json.RootElement, DateTimeOffset.UtcNow);
                if (definition.Name != name)
                    throw new InvalidDataException($"it names stream '{definition.Name}' but is stored as '{name}'.");
                var log = IngestLog.Open(Path.Combine(dir, "log"), _logOptions);
                if (log.TruncatedBytesOnOpen > 0)
                    logger.LogWarning("Stream {Stream}: cut {Bytes} bytes of torn tail from its ingest log (an unacknowledged write interrupted by a crash)", definition.Name, log.TruncatedBytesOnOpen);
                _streams.Add(new IngestStream(definition, dir, log));
            }
            catch (Exception e) when (FailedDefinition.IsLoadFailure(e))
            {
                var failed = FailedDefinition.From("stream", name, $"streams/{name}/{DefinitionFile}", e);
                logger.LogError("Stream {Stream} is skipped: {Reason}", name, failed.Reason);
                _streams.AddFailed(failed);
            }
        }
        var period = TimeSpan.FromSeconds(Math.Clamp(options.StreamIdleSeconds / 4.0, 0.25, 15));
        _idleTimer = new Timer(_ => TrimIdle(), null, period, period);
        metrics.AddGauges("dataplane_stream_log_bytes", "Bytes held by the stream's ingest log on disk.",
            () => List().Select(s => (PipelineMetrics.Labels(("stream", s.Name)), (double)s.Log.SizeBytes)));
        metrics.AddGauges("dataplane_stream_log_end_offset", "Offset the next record appended to the stream gets.",
            () => List().Select(s => (PipelineMetrics.Labels(("stream", s.Name)), (double)s.Log.EndOffset)));
    }

    public IReadOnlyList<IngestStream> List() => _streams.List();

    public IngestStream? Find(string name) => _streams.Find(name);

    /// <summary>Stored streams that could not be loaded at start-up, by name.</summary>
    public IReadOnlyList<FailedDefinition> Failed() => _streams.Failed();

    public FailedDefinition? FindFailed(string name) => _streams.FindFailed(name);

    /// <inheritdoc cref="DefinitionSet{T}.NameTaken"/>
    public string NameTaken(string name) => _streams.NameTaken(name);

    /// <summary>Lets the streams nobody appended to for a while close their files and drop what they hold in memory.</summary>
    private void TrimIdle()
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1)
            return;
        try
        {
            foreach (var stream in List())
            {
                try
                {
                    stream.TrimIdle(_idleAfter);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    // Closing a file failed, or the stream was being deleted: the next round tries again.
                    _logger.LogWarning("Stream {Stream}: letting go of its idle log file failed: {Reason}", stream.Name, e.Message);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    /// <summary>
    /// Creates the stream; false when one of that name exists (loaded or failed). An <see cref="InvalidOperationException"/>
    /// (409) when the server holds <see cref="PipelinesOptions.MaxStreams"/>, or while a stream of that name is being deleted.
    /// </summary>
    public bool TryCreate(StreamDefinition definition, out IngestStream stream)
    {
        lock (_streams.Gate)
        {
            stream = _streams.Find(definition.Name)!; // the one of that name; null with a failed one (false either way)
            if (_streams.Contains(definition.Name))
                return false;
            if (_deleting.Contains(definition.Name))
                throw new InvalidOperationException($"Stream '{definition.Name}' is being deleted; create it again once its delete is done.");
            int count = _streams.Count;
            if (count >= _maxStreams)
                throw new InvalidOperationException(PipelinesOptions.LimitReached("stream", count, _maxStreams, nameof(PipelinesOptions.MaxStreams)));
            var dir = Path.Combine(_root, definition.Name);
            // Safe: the name is a plain folder name (ResourceName), and a folder of it that no stream, failed stream or
            // delete in progress owns was left by a create or delete cut short by a crash (every folder holding a
            // stream.json at start-up is loaded or failed; a delete removes stream.json first; a create writes it last).
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            var log = IngestLog.Open(Path.Combine(dir, "log"), _logOptions);
            var temp = Path.Combine(dir, DefinitionFile + ".tmp");
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                using (var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
                    definition.Write(w);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, Path.Combine(dir, DefinitionFile));
            DirectoryFlush.Flush(dir);
            DirectoryFlush.Flush(_root);
            stream = new IngestStream(definition, dir, log);
            _streams.Add(stream);
            return true;
        }
    }

    /// <summary>
    /// Deletes the stream and its folder; false when there is none. An <see cref="InvalidOperationException"/> (409) while
    /// a pipeline reads it, decided in one step with the removal (<see cref="IngestStream.MarkDeleted"/>), so no pipeline
    /// is left reading a deleted folder. <paramref name="stopWriters"/> runs once the stream is out of the registry and
    /// before its log closes (the Kafka source stops there). The name stays taken until the folder is gone.
    /// </summary>
    public async Task<bool> DeleteAsync(string name, Func<Task>? stopWriters = null)
    {
        IngestStream? stream;
        lock (_streams.Gate)
        {
            if (_streams.RemoveFailed(name))
            {
                // Safe: the folder the failed stream was loaded from (its key is that folder's name, from the listing of
                // our own streams folder); nothing reads a stream that never loaded. Definition first, as below.
                var dir = Path.Combine(_root, name);
                File.Delete(Path.Combine(dir, DefinitionFile));
                Directory.Delete(dir, recursive: true);
                return true;
            }
            stream = _streams.Find(name);
            if (stream is null)
                return false;
            var readers = stream.MarkDeleted();
            if (readers.Count > 0)
                throw new InvalidOperationException($"Stream '{name}' is read by pipeline(s) {string.Join(", ", readers.Order())}; delete those first.");
            _streams.Remove(name, out _);
            _deleting.Add(name);
        }
        try
        {
            if (stopWriters is not null)
                await stopWriters();
            await stream.DisposeAsync();
            // Safe: the stream's own folder (made by TryCreate, or loaded from it); no pipeline reads it (MarkDeleted), its
            // source and log are closed, and no stream can be created in it until this returns (_deleting). The definition
            // goes first so a crash mid-delete leaves a folder that is ignored, not a half stream.
            File.Delete(Path.Combine(stream.Directory, DefinitionFile));
            Directory.Delete(stream.Directory, recursive: true);
        }
        finally
        {
            lock (_streams.Gate)
                _deleting.Remove(name);
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _idleTimer.DisposeAsync();
        foreach (var stream in List())
            await stream.DisposeAsync();
    }
}
