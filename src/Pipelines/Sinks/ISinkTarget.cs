using DataPlane.Iceberg.DataFiles;
using DataPlane.Storage;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// What the runtime needs of a destination: where to write data files, an atomic commit that records the stream
/// offsets the files cover, the last such commit (to resume from), and removal of the files its pipeline wrote but no
/// commit references. Two implementations: Iceberg tables and raw file folders.
/// </summary>
internal interface ISinkTarget
{
    /// <summary>What the files written belong to, for the pipeline's journal of them (a table's UUID, a folder's path); set by <see cref="LastCommitAsync"/>.</summary>
    string? Identity { get; }

    /// <summary>The sink's commit to resume after: for a table, its newest in the history of the current snapshot.</summary>
    Task<SinkCommit?> LastCommitAsync(CancellationToken cancellationToken);

    /// <summary>The sink's commit that reached furthest into its stream among every commit the target still holds,
    /// including those a rollback took out of the current history.</summary>
    Task<SinkCommit?> FurthestCommitAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes those of <paramref name="keys"/>, files this sink's pipeline recorded before writing them for
    /// <paramref name="recordedFor"/> (an earlier <see cref="Identity"/>), that exist and that nothing of the target
    /// references: for a table, no snapshot in its metadata (current, older, branches, tags; data and delete files).
    /// Never looks at any other file.
    /// </summary>
    Task<SinkCleanup> RemoveUncommittedAsync(string? recordedFor, IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>
    /// The schema of the table the target writes into when that table exists (the output must match it:
    /// <see cref="SinkSchemaMatch"/>); null when the target takes the output as it is (a table it will create, a folder).
    /// </summary>
    Task<IcebergSchema?> TableSchemaAsync(CancellationToken cancellationToken);

    /// <summary>A writer for the next roll's files (called after <see cref="LastCommitAsync"/>).</summary>
    PartitionedWriter OpenWriter(DataFileWriterOptions options);

    /// <summary>Commits the files, and the checkpoint of the statement's state when it has one (its folder's files
    /// written first, <see cref="OpenCheckpointAsync"/>), with the offsets: state, files and offsets land together or not at all. Refused
    /// with <see cref="SinkRolledBackException"/> when <paramref name="previous"/>, the sink's commit the pipeline continues
    /// from, is no longer in the target's current history. With <paramref name="kafka"/> (a Kafka-backed stream), the
    /// commit names those partitions' offsets and is refused, with the same exception, unless the sink's commits in the
    /// history end each of them where <paramref name="kafka"/> starts it (or none names it, for a partition new to the sink).
    /// With <paramref name="streams"/> (a pipeline over several streams), the commit names each stream's offsets.</summary>
    Task<SinkCommit> CommitAsync(IReadOnlyList<SinkDataFile> files, string stream, long startOffset, long endOffset, string? checkpointKey, SinkCommit? previous,
        CancellationToken cancellationToken, KafkaOffsets? kafka = null, StreamOffsets? streams = null);

    /// <summary>
    /// The store key of a new operator-state checkpoint's folder (ending in '/') for the commit to come (the stream up to
    /// <paramref name="endOffset"/>), next to what the target writes: named by the offset and a random part, so never
    /// written twice (called after <see cref="LastCommitAsync"/>). Its files: <see cref="Runtime.PipelineCheckpoint"/>.
    /// </summary>
    string NewCheckpointKey(long endOffset);

    /// <summary>A stream into a checkpoint file under a folder from <see cref="NewCheckpointKey"/>: durable once completed, absent if abandoned.</summary>
    Task<ObjectWriteStream> OpenCheckpointAsync(string key, CancellationToken cancellationToken);

    /// <summary>A checkpoint file, read as it is consumed: a commit's <see cref="SinkCommit.Checkpoint"/> (a file), or a file of the folder it names.</summary>
    Task<ObjectBody> ReadCheckpointAsync(string checkpoint, CancellationToken cancellationToken);
}
