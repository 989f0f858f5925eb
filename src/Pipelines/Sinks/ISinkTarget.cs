using DataPlane.Catalog.DataFiles;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// What the runtime needs of a destination: where to write data files, an atomic commit that records the stream
/// offsets the files cover, the last such commit (to resume from), and removal of files no commit references.
/// Two implementations: Iceberg tables and raw file folders.
/// </summary>
internal interface ISinkTarget
{
    Task<SinkCommit?> LastCommitAsync(CancellationToken cancellationToken);

    /// <summary>Deletes data files written before a crash but never committed; returns how many.</summary>
    Task<int> RemoveUncommittedAsync(CancellationToken cancellationToken);

    /// <summary>A writer for the next roll's files (called after <see cref="LastCommitAsync"/>).</summary>
    PartitionedWriter OpenWriter(DataFileWriterOptions options);

    Task<SinkCommit> CommitAsync(IReadOnlyList<SinkDataFile> files, string stream, long startOffset, long endOffset, CancellationToken cancellationToken);
}
