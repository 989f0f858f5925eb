using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>A committer that lets something happen (another writer's commit) right before each commit it forwards: a
/// second writer that wins the race exactly when the test wants it to.</summary>
internal sealed class RacedCommitter(ITableCommitter inner, Func<TableMetadata, Task> before) : ITableCommitter
{
    public Task<TableState?> LoadAsync(CancellationToken cancellationToken = default) => inner.LoadAsync(cancellationToken);

    public async Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default)
    {
        await before(commit.Updated);
        return await inner.CommitAsync(commit, cancellationToken);
    }
}
