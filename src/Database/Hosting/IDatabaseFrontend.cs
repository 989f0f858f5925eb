using DataPlane.Database.Execution;
using DataPlane.Database.Sessions;

namespace DataPlane.Database.Hosting;

/// <summary>
/// What the HTTP API talks to for one database: the primary with its in-process replicas, or a
/// replica host that forwards what it cannot serve to a primary elsewhere.
/// </summary>
internal interface IDatabaseFrontend : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Runs the request where the session allows; a read-only caller is refused writes.</summary>
    Task<QueryResult> QueryAsync(IReadOnlyList<SqlStatement> statements, SessionConstraint session, Access access, string? token, CancellationToken cancellationToken);

    Task<Access> AuthorizeAsync(string? token, CancellationToken cancellationToken);

    IReadOnlyList<ReplicaStatus> ReplicaStatuses();
}
