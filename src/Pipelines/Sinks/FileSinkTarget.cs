using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// Raw Parquet or NDJSON files under <c>&lt;path&gt;/year=YYYY/month=MM/day=DD/</c>. A commit is one journal object
/// <c>&lt;path&gt;/_dataplane/commits/&lt;sequence&gt;.json</c>, created put-if-absent, listing its files and the stream offsets
/// they cover: a file is part of the output only once a journal entry names it, so readers should take the
/// journal's files. A restart deletes only the files its pipeline recorded writing that no entry names (a roll cut
/// short by a crash or a failed commit); anything else in the folder is left alone.
/// </summary>
/// <param name="format"><see cref="SinkDefinition.Parquet"/> or <see cref="SinkDefinition.Ndjson"/>.</param>
/// <param name="rawRecords">The output is a schemaless stream's record text, which NDJSON files hold as is.</param>
/// <param name="properties">Write properties of the Parquet files (<see cref="TableWriteProperties"/>), from the sink's definition.</param>
internal sealed class FileSinkTarget(IObjectStore store, string path, IcebergSchema schema, string format = SinkDefinition.Parquet, bool rawRecords = false,
    IReadOnlyDictionary<string, string>? properties = null) : ISinkTarget
{
    private string CommitsPrefix => $"{path}/_dataplane/commits/";

    public string? Identity => "files:" + path;

    public async Task<SinkCommit?> LastCommitAsync(CancellationToken cancellationToken)
    {
        string? last = null;
        await foreach (var info in store.ListAsync(CommitsPrefix, cancellationToken: cancellationToken))
            last = info.Key;
        return last is null ? null : (await ReadCommitAsync(last, cancellationToken)).Commit;
    }

    /// <summary>The folder's commits form one line (no rollback), so the furthest is the last.</summary>
    public Task<SinkCommit?> FurthestCommitAsync(CancellationToken cancellationToken) => LastCommitAsync(cancellationToken);

    /// <summary>Only the recorded files are looked at, never a listing of the folder: one that exists is deleted when no
    /// commit journal entry names it, kept when one does.</summary>
    public async Task<SinkCleanup> RemoveUncommittedAsync(string? recordedFor, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var existing = new List<string>();
        foreach (var key in keys)
            if (await store.HeadAsync(key, cancellationToken) is not null)
                existing.Add(key);
        int neverCreated = keys.Count - existing.Count;
        if (existing.Count == 0)
            return new SinkCleanup([], 0, neverCreated);
        if (recordedFor != Identity)
            return new SinkCleanup([], 0, neverCreated, $"they were written for {recordedFor}, not this sink's folder {path}");
        var committed = new HashSet<string>(StringComparer.Ordinal);
        var checkpoints = new List<string>();
        await foreach (var info in store.ListAsync(CommitsPrefix, cancellationToken: cancellationToken))
        {
            var (commit, committedFiles) = await ReadCommitAsync(info.Key, cancellationToken);
            committed.UnionWith(committedFiles);
            if (commit.Checkpoint is { } checkpoint)
                checkpoints.Add(checkpoint);
        }
        var removed = existing.Where(k => !committed.Contains(k) && !checkpoints.Any(c => CommitHistory.InCheckpoint(c, k))).ToList();
        foreach (var key in removed)
            await store.DeleteAsync(key, cancellationToken);
        return new SinkCleanup(removed, existing.Count - removed.Count, neverCreated);
    }

    /// <summary>A folder has no schema of its own: its files take the output's.</summary>
    public Task<IcebergSchema?> TableSchemaAsync(CancellationToken cancellationToken) => Task.FromResult<IcebergSchema?>(null);

    public PartitionedWriter OpenWriter(DataFileWriterOptions options)
    {
        var now = DateTime.UtcNow;
        var directory = string.Create(CultureInfo.InvariantCulture, $"{path}/year={now:yyyy}/month={now:MM}/day={now:dd}");
        return format == SinkDefinition.Ndjson
            ? PartitionedWriter.Ndjson(store, directory, options, rawRecords)
            : new PartitionedWriter(store, directory, schema, PartitionSpec.Unpartitioned,
                properties is null ? options : TableWriteProperties.Apply(properties, options));
    }

    public async Task<SinkCommit> CommitAsync(IReadOnlyList<SinkDataFile> files, string stream, long startOffset, long endOffset, string? checkpointKey,
        SinkCommit? previous, CancellationToken cancellationToken, KafkaOffsets? kafka = null, StreamOffsets? streams = null)
    {
        if (kafka is not null)
            throw new NotSupportedException("A files sink does not record Kafka offsets; pipelines over a Kafka-backed stream write Iceberg sinks.");
        var last = await LastCommitAsync(cancellationToken);
        var commit = new SinkCommit((last?.Id ?? 0) + 1, stream, startOffset, endOffset, files.Sum(f => f.File.RecordCount), files.Count, DateTimeOffset.UtcNow,
            checkpointKey, Streams: streams);
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("sequence", commit.Id);
            w.WriteString("stream", stream);
            w.WriteNumber("start_offset", startOffset);
            w.WriteNumber("end_offset", endOffset);
            if (streams is not null) w.WriteString("streams", streams.Format());
            w.WriteNumber("records", commit.Records);
            w.WriteString("committed_at", commit.CommittedAt);
            if (checkpointKey is not null) w.WriteString("checkpoint", checkpointKey);
            w.WriteStartArray("files");
            foreach (var f in files.Select(f => f.File))
            {
                w.WriteStartObject();
                w.WriteString("key", f.Key);
                w.WriteNumber("records", f.RecordCount);
                w.WriteNumber("bytes", f.FileSizeInBytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        json.Position = 0;
        // Put-if-absent: a second writer (there should be none) cannot overwrite a commit.
        await store.PutIfAbsentAsync(CommitKey(commit.Id), json, new PutOptions { ContentType = "application/json" }, cancellationToken);
        // Safe: the previous commit's checkpoint, which this sink's pipeline wrote under this folder's _dataplane/; a folder's
        // commits form one line (no rollback), so nothing restores from any commit but the last, which names another.
        if (last?.Checkpoint is { } superseded && superseded != checkpointKey && superseded.StartsWith(CheckpointsPrefix, StringComparison.Ordinal))
        {
            if (!superseded.EndsWith('/'))
                await store.DeleteAsync(superseded, cancellationToken); // a checkpoint in one file, written before checkpoint folders
            else
                await foreach (var file in store.ListAsync(superseded, cancellationToken: cancellationToken))
                    await store.DeleteAsync(file.Key, cancellationToken);
        }
        return commit;
    }

    private string CommitKey(long sequence) => string.Create(CultureInfo.InvariantCulture, $"{CommitsPrefix}{sequence:D20}.json");

    private async Task<(SinkCommit Commit, List<string> Files)> ReadCommitAsync(string key, CancellationToken cancellationToken)
    {
        await using var stream = await store.GetAsync(key, cancellationToken: cancellationToken);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var root = doc.RootElement;
        var files = root.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("key").GetString()!).ToList();
        return (new SinkCommit(
            root.GetProperty("sequence").GetInt64(),
            root.GetProperty("stream").GetString()!,
            root.GetProperty("start_offset").GetInt64(),
            root.GetProperty("end_offset").GetInt64(),
            root.GetProperty("records").GetInt64(),
            files.Count,
            root.GetProperty("committed_at").GetDateTimeOffset(),
            root.TryGetProperty("checkpoint", out var checkpoint) ? checkpoint.GetString() : null,
            Streams: root.TryGetProperty("streams", out var streams) ? StreamOffsets.Parse(streams.GetString()!) : null), files);
    }

    /// <summary><c>&lt;path&gt;/_dataplane/checkpoints/&lt;end offset&gt;-&lt;random&gt;/</c>, beside the commit journal.</summary>
    public string NewCheckpointKey(long endOffset) =>
        string.Create(CultureInfo.InvariantCulture, $"{CheckpointsPrefix}{endOffset:D20}-{Guid.NewGuid():N}/");

    private string CheckpointsPrefix => $"{path}/_dataplane/checkpoints/";

    public Task<ObjectWriteStream> OpenCheckpointAsync(string key, CancellationToken cancellationToken) =>
        store.OpenWriteAsync(key, cancellationToken: cancellationToken);

    public Task<ObjectBody> ReadCheckpointAsync(string checkpoint, CancellationToken cancellationToken) =>
        store.GetAsync(checkpoint, cancellationToken: cancellationToken);
}
