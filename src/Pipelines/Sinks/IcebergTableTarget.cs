using System.Globalization;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// An Iceberg table of a catalog: DataPlane's own in this process (the one <c>/iceberg/v1</c> serves, where the commit
/// joins the table's commit group with the REST service's) or an Iceberg REST catalog another process serves. Each
/// commit is one fast-append snapshot whose summary carries the sink, the stream and the offsets its files cover; the
/// table (and its namespace) is created from the pipeline's output schema and the sink's partition terms and properties
/// when absent. Data files and checkpoints go through the table's own file access (<see cref="Table.Store"/>), the one
/// its catalog gives, so their keys are the table's keys whichever catalog it is.
/// <para>
/// An updating aggregate's sink (<paramref name="outputSchema"/> has identifier fields: the statement's keys) keeps one
/// row per key: the table gets the keys as its identifier fields (a table that exists must have them, or none, then
/// they are set; its partitions must be over them), and each commit is one row delta (<c>overwrite</c>) of the new rows
/// and an equality delete file on the keys for the same keys, which applies to older snapshots' rows only: any Iceberg
/// reader sees each key's current row (merge-on-read).
/// </para>
/// </summary>
internal sealed class IcebergTableTarget(ICatalog catalog, SinkDefinition sink, IcebergSchema outputSchema) : ISinkTarget
{
    public const string SinkKey = CommitHistory.WriterKey;
    public const string StreamKey = "dataplane.stream";
    public const string StartOffsetKey = "dataplane.start-offset";
    public const string EndOffsetKey = "dataplane.end-offset";
    public const string CheckpointKey = CommitHistory.CheckpointKey;

    private readonly TableIdentifier _id = new([sink.Namespace!], sink.Table!);
    /// <summary>An updating aggregate's keys (the output's identifier fields); empty for append-only output.</summary>
    private readonly IReadOnlyList<string> _keys = [.. outputSchema.IdentifierFieldIds.Select(id => outputSchema.FindColumnName(id)!)];
    private Table? _table;

    public string? Identity => _table?.Metadata.TableUuid;

    public async Task<SinkCommit?> LastCommitAsync(CancellationToken cancellationToken)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        // Through the markers snapshot expiry leaves where it cuts the history, so an expired last commit still counts.
        if (CommitHistory.LastCommit(table.Metadata, sink.Name) is not { } last)
            return null;
        // A Kafka-backed stream's commits may each name some partitions only (workers of a group): each from the newest naming it.
        return KafkaOffsets.From(last.Summary) is null ? Commit(last) : Commit(last) with { Kafka = KafkaPositions(table.Metadata) };
    }

    public async Task<SinkCommit?> FurthestCommitAsync(CancellationToken cancellationToken)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        return CommitHistory.AllCommits(table.Metadata, sink.Name).Select(Commit).MaxBy(c => c.EndOffset);
    }

    /// <summary>
    /// Only the recorded files are looked at, never a listing of <c>data/</c>, where other writers' files are (uncommitted
    /// ones, delete files, files of older snapshots, branches and tags). One that exists is deleted only when no snapshot
    /// in the metadata names it; one a commit did land is kept.
    /// </summary>
    public async Task<SinkCleanup> RemoveUncommittedAsync(string? recordedFor, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        // Loaded as it is now, never created: a dropped table is not brought back by a clean-up. The keys are the table's
        // (its store's), so without a table there is no store to look in.
        var table = await catalog.TryLoadTableAsync(_id, cancellationToken);
        if (table is null)
            return new SinkCleanup([], 0, 0, $"they were written for table {_id} (UUID {recordedFor}), which no longer exists");
        var existing = new List<string>();
        foreach (var key in keys)
            if (await table.Store.HeadAsync(key, cancellationToken) is not null)
                existing.Add(key);
        int neverCreated = keys.Count - existing.Count;
        if (existing.Count == 0)
            return new SinkCleanup([], 0, neverCreated);
        if (table.Metadata.TableUuid != recordedFor)
            return new SinkCleanup([], 0, neverCreated, $"they were written for table UUID {recordedFor}; {_id} is now UUID {table.Metadata.TableUuid}");
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in await table.ReferencedFilesAsync(cancellationToken))
            if (KeyIn(table, location) is { } key)
                referenced.Add(key);
        // The checkpoints commits name (in snapshots of any branch or tag, any writer's, and in expiry's markers), every file of their folders, are the table's too.
        var checkpoints = CommitHistory.Checkpoints(table.Metadata).Select(c => KeyIn(table, c)).OfType<string>().ToList();
        var removed = existing.Where(k => !referenced.Contains(k) && !checkpoints.Any(c => CommitHistory.InCheckpoint(c, k))).ToList();
        foreach (var key in removed)
            await table.Store.DeleteAsync(key, cancellationToken);
        return new SinkCleanup(removed, existing.Count - removed.Count, neverCreated);
    }

    /// <summary>The table's schema: as loaded by the last <see cref="LastCommitAsync"/>, or as the catalog has it now (null: no such table yet).</summary>
    public async Task<IcebergSchema?> TableSchemaAsync(CancellationToken cancellationToken) =>
        _table?.Schema ?? (await catalog.TryLoadTableAsync(_id, cancellationToken))?.Schema;

    /// <summary>The table's write properties, as they are at the last commit or refresh, take the place of the pipeline's choices.</summary>
    public PartitionedWriter OpenWriter(DataFileWriterOptions options)
    {
        var table = _table ?? throw new InvalidOperationException("The table is loaded before files are written.");
        var properties = TableWriteProperties.Apply(table.Metadata.Properties, options);
        return _keys.Count > 0
            ? PartitionedWriter.Updating(table.Store, table.TableKey + "/data", table.Schema, table.Spec, properties, KeyIds(table.Schema))
            : new PartitionedWriter(table.Store, table.TableKey + "/data", table.Schema, table.Spec, properties);
    }

    public async Task<SinkCommit> CommitAsync(IReadOnlyList<SinkDataFile> files, string stream, long startOffset, long endOffset, string? checkpointKey,
        SinkCommit? previous, CancellationToken cancellationToken, KafkaOffsets? kafka = null, StreamOffsets? streams = null)
    {
        var table = await LoadOrCreateAsync(cancellationToken);
        var summary = new Dictionary<string, string>
        {
            [SinkKey] = sink.Name,
            [StreamKey] = stream,
            [StartOffsetKey] = startOffset.ToString(CultureInfo.InvariantCulture),
            [EndOffsetKey] = endOffset.ToString(CultureInfo.InvariantCulture),
        };
        // In the same snapshot as the offsets, so the state restored is always the state at those offsets.
        string? checkpoint = checkpointKey is null ? null : table.LocationOf(checkpointKey);
        if (checkpoint is not null)
            summary[CheckpointKey] = checkpoint;
        kafka?.WriteTo(summary);
        if (streams is not null)
            summary[StreamOffsets.SummaryKey] = streams.Format();
        var keyIds = _keys.Count > 0 ? KeyIds(table.Schema) : null;
        var added = files.Select(f => f.EqualityDeletes
            ? f.File.ToDataFile(table.LocationOf(f.File.Key), table.Spec.SpecId, f.Partition) with { Content = FileContent.EqualityDeletes, EqualityIds = keyIds }
            : f.File.ToDataFile(table.LocationOf(f.File.Key), table.Spec.SpecId, f.Partition)).ToList();
        var dataFiles = added.Where(f => f.Content == FileContent.Data).ToList();
        // Kafka: the requirement on the partitions' last offsets covers a rollback too, and allows other writers of other partitions.
        Action<TableMetadata>? validate = kafka is not null ? m => CheckKafkaOffsets(m, kafka) : previous is null ? null : m => CheckInHistory(m, previous);
        // An updating aggregate's rows and the equality deletes of their keys' older rows: one snapshot, so no reader sees a key twice or not at all.
        var snapshot = keyIds is not null
            ? await table.RowDeltaAsync(added, summary, validate: validate, cancellationToken: cancellationToken)
            : await table.AppendAsync(dataFiles, summary, validate: validate, cancellationToken: cancellationToken);
        return new SinkCommit(snapshot.SnapshotId, stream, startOffset, endOffset, dataFiles.Sum(f => f.RecordCount), dataFiles.Count,
            DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TimestampMs), checkpoint, kafka, streams);
    }

    /// <summary>
    /// <c>&lt;table&gt;/checkpoints/&lt;sink&gt;/&lt;end offset&gt;-&lt;random&gt;/</c>: beside <c>data/</c> and
    /// <c>metadata/</c> rather than in them, since <c>metadata/</c> is the table format's own (a file-system table's version
    /// files, other engines' tools) and <c>data/</c> holds content files; under the table, so it goes with the table and
    /// orphan removal and expiry know it, every file in it (<see cref="CommitHistory.Checkpoints"/>).
    /// </summary>
    public string NewCheckpointKey(long endOffset)
    {
        var table = _table ?? throw new InvalidOperationException("The table is loaded before a checkpoint is written.");
        return string.Create(CultureInfo.InvariantCulture, $"{table.TableKey}/checkpoints/{sink.Name}/{endOffset:D20}-{Guid.NewGuid():N}/");
    }

    public Task<ObjectWriteStream> OpenCheckpointAsync(string key, CancellationToken cancellationToken)
    {
        var table = _table ?? throw new InvalidOperationException("The table is loaded before a checkpoint is written.");
        return table.Store.OpenWriteAsync(key, cancellationToken: cancellationToken);
    }

    public Task<ObjectBody> ReadCheckpointAsync(string checkpoint, CancellationToken cancellationToken)
    {
        var table = _table ?? throw new InvalidOperationException("The table is loaded before a checkpoint is read.");
        var key = KeyIn(table, checkpoint) ?? throw new InvalidDataException($"The checkpoint {checkpoint} is outside the warehouse.");
        return table.Store.GetAsync(key, cancellationToken: cancellationToken);
    }

    private async Task<Table> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        if (_table is not null)
        {
            await _table.RefreshAsync(cancellationToken);
            return _table;
        }
        if (await catalog.TryLoadTableAsync(_id, cancellationToken) is { } existing)
            return _table = await KeyedAsync(existing, cancellationToken);
        await catalog.CreateNamespaceIfMissingAsync(_id.Namespace, cancellationToken);
        var spec = PartitionTerms.Build(outputSchema, sink.Partition);
        try
        {
            return _table = await catalog.CreateTableAsync(_id, outputSchema, spec, properties: sink.Properties, cancellationToken: cancellationToken);
        }
        catch (CatalogException e) when (e.IsAlreadyExists)
        {
            return _table = await catalog.LoadTableAsync(_id, cancellationToken); // created concurrently
        }
    }

    /// <summary>The field ids of the keys in <paramref name="schema"/> (the table's), in key order.</summary>
    private List<int> KeyIds(IcebergSchema schema) =>
        [.. _keys.Select(k => schema.Columns.FirstOrDefault(c => c.Name == k)?.Id
            ?? throw new InvalidOperationException($"Table {_id} has no column '{k}', a key of INSERT INTO {sink.Name}; its columns are {string.Join(", ", schema.Columns.Select(c => c.Name))}."))];

    /// <summary>
    /// An existing table an updating aggregate writes: its key columns must be able to identify rows
    /// (<see cref="SinkSchemaMatch"/> checks them too), its partitions must be over the keys (an equality delete applies
    /// within its own partition, so a key's newer row must land in its older row's), and it gets the keys as its
    /// identifier fields when it has none.
    /// </summary>
    private async Task<Table> KeyedAsync(Table table, CancellationToken cancellationToken)
    {
        if (_keys.Count == 0)
            return table;
        var ids = KeyIds(table.Schema);
        foreach (var field in table.Spec.Fields)
            if (!ids.Contains(field.SourceId))
                throw new InvalidOperationException($"Table {_id} is partitioned by column '{table.Schema.FindColumnName(field.SourceId)}', which is not a key of INSERT INTO {sink.Name} " +
                    $"(keys {string.Join(", ", _keys)}): a key's new row could land in another partition than its old one, which an equality delete would not reach; write into a table partitioned by the keys only.");
        if (table.Schema.IdentifierFieldIds.Count > 0)
            return table;
        await table.UpdateSchemaAsync(u => u.SetIdentifierFields([.. _keys]), cancellationToken);
        return table;
    }

    /// <summary>
    /// Refuses a commit that would continue from <paramref name="previous"/> when a rollback took it out of the current
    /// snapshot's history: the records it and the rolled-back commits after it covered would be missing from the table
    /// for good. The pipeline resumes from its last commit still in the history instead (re-delivery from its log).
    /// </summary>
    private void CheckInHistory(TableMetadata metadata, SinkCommit previous)
    {
        // The sink's newest commit in the current history, through the markers expiry leaves where it cuts the history:
        // anything but the commit the pipeline continues from means a rollback took that one out.
        var last = CommitHistory.LastCommit(metadata, sink.Name);
        if (last?.SnapshotId == previous.Id)
            return;
        // None at all while its snapshot is gone: the history was cut without markers (another engine's expiry), so a
        // rollback cannot be told from it; continuing is what the history allows.
        if (last is null && metadata.Snapshot(previous.Id) is null)
            return;
        throw RolledBack(metadata, previous);
    }

    /// <summary>Where the sink's commits in the history of <paramref name="metadata"/>'s current snapshot leave each partition.</summary>
    private KafkaOffsets? KafkaPositions(TableMetadata metadata) => KafkaOffsets.Positions(metadata, sink.Name);

    /// <summary>
    /// The commit's requirement, checked on the exact metadata it lands on: each partition it names ends, in the sink's
    /// commits of the history, where the commit starts it (none ending it, for a partition the writer read from its
    /// first message). Otherwise another writer committed it since (a worker that took the partition over), or a
    /// rollback took commits out: the commit is refused and its writer starts over from the table.
    /// </summary>
    private void CheckKafkaOffsets(TableMetadata metadata, KafkaOffsets offsets)
    {
        var now = KafkaPositions(metadata);
        foreach (var (partition, (start, _)) in offsets.Partitions.OrderBy(p => p.Key))
        {
            long? end = now is not null && now.Topic == offsets.Topic && now.Partitions.TryGetValue(partition, out var range) ? range.End : null;
            long? expected = offsets.Fresh.Contains(partition) ? null : start;
            if (end != expected)
                throw new SinkRolledBackException($"Sink '{sink.Name}''s commit to {_id} continues partition {partition} of Kafka topic '{offsets.Topic}' from " +
                    $"{(expected is null ? "its first message (no commit of the sink names it)" : $"offset {expected}")}, but the sink's commits in the table's history now end it at " +
                    $"{(end is null ? "no offset (none names it)" : $"offset {end}")}: another writer committed it since, or a rollback took commits out.");
        }
    }

    private SinkRolledBackException RolledBack(TableMetadata metadata, SinkCommit previous) => new(
        $"Snapshot {previous.Id}, the last commit of sink '{sink.Name}' (stream offsets up to {previous.EndOffset}), is no longer in the " +
        $"history of {_id}'s current snapshot {metadata.CurrentSnapshotId}: the table was rolled back past it.");

    private static SinkCommit Commit(CommitHistory.WriterCommit commit)
    {
        var s = commit.Summary;
        return new SinkCommit(commit.SnapshotId, s[StreamKey], Long(s[StartOffsetKey]), Long(s[EndOffsetKey]),
            s.TryGetValue("added-records", out var r) ? Long(r) : 0, s.TryGetValue("added-data-files", out var f) ? (int)Long(f) : 0,
            DateTimeOffset.FromUnixTimeMilliseconds(commit.TimestampMs), s.GetValueOrDefault(CheckpointKey),
            Streams: s.TryGetValue(StreamOffsets.SummaryKey, out var streams) ? StreamOffsets.Parse(streams) : null);
    }

    /// <summary>The store key of a referenced file, or null for a location outside the warehouse (not one of the sink's).</summary>
    private static string? KeyIn(Table table, string location)
    {
        try
        {
            return table.KeyOf(location);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}
