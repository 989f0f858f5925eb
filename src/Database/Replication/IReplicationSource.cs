using DataPlane.Database.Log;

namespace DataPlane.Database.Replication;

/// <summary>Where a replica gets its snapshot and log: the primary in this process, or one over HTTP.</summary>
internal interface IReplicationSource
{
    /// <summary>Writes the latest snapshot to <paramref name="destinationPath"/>; returns its position.</summary>
    Task<long> DownloadSnapshotAsync(string destinationPath, CancellationToken cancellationToken);

    /// <summary>
    /// Entries after <paramref name="after"/>, waiting up to <paramref name="wait"/> for one to arrive.
    /// Throws <see cref="LogTruncatedException"/> when they were truncated.
    /// </summary>
    Task<LogBatch> ReadLogAsync(string replicaId, long after, TimeSpan wait, CancellationToken cancellationToken);
}

internal sealed record LogBatch(IReadOnlyList<LogEntry> Entries, long PrimaryPosition);
