using DataPlane.Database.Execution;
using DataPlane.Database.Primary;
using DataPlane.Database.Replication;
using DataPlane.Database.Sessions;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Hosting;

/// <summary>A database on this host: its primary, its in-process replicas and its tokens.</summary>
internal sealed class ReplicatedDatabase : IDatabaseFrontend
{
    private readonly DatabaseOptions _options;
    private readonly AccessPolicy _policy;
    private readonly List<Replica> _replicas = [];
    private int _nextReplica;

    public ReplicatedDatabase(string name, string directory, int replicaCount, DatabaseOptions options, ILoggerFactory loggers)
    {
        Name = name;
        Directory = directory;
        _options = options;
        _policy = new AccessPolicy(options);
        Primary = new PrimaryDatabase(directory, options, loggers.CreateLogger<PrimaryDatabase>());
        Tokens = new TokenStore(Path.Combine(directory, "tokens.json"));
        for (int i = 0; i < replicaCount; i++)
        {
            string id = $"{name}-r{i + 1}";
            var replica = new Replica(id, Path.Combine(directory, "replicas", id), Primary, options, loggers.CreateLogger<Replica>());
            _replicas.Add(replica);
            replica.Start();
        }
    }

    public string Name { get; }
    public string Directory { get; }
    public PrimaryDatabase Primary { get; }
    public TokenStore Tokens { get; }
    public IReadOnlyList<Replica> Replicas => _replicas;

    public Task<Access> AuthorizeAsync(string? token, CancellationToken cancellationToken)
    {
        if (_policy.IsAdmin(token)) return Task.FromResult(Access.ReadWrite);
        if (Tokens.IsOpen && !_policy.AllowAnonymous) throw _policy.ClosedWithoutTokens(Name);
        return Task.FromResult(Tokens.Check(token));
    }

    public async Task<QueryResult> QueryAsync(IReadOnlyList<SqlStatement> statements, SessionConstraint session, Access access, string? token, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        QueryResult? result = null;
        if (session.Start != SessionStart.FirstPrimary && _replicas.Count > 0)
        {
            var replica = PickReplica(session.MinPosition);
            result = await replica.TryReadAsync(statements, session.MinPosition, _options.ReplicaReadTimeout, cancellationToken);
        }
        result ??= await Primary.TryReadAsync(statements, cancellationToken);
        if (result is null)
        {
            if (access != Access.ReadWrite)
                throw new DatabaseException(DatabaseErrorKind.Forbidden, $"This token is read-only for database '{Name}'; the request writes.", "read_only_token");
            result = await Primary.WriteAsync(statements, cancellationToken);
        }
        result.DurationMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return result;
    }

    /// <summary>A replica already at the bookmark if there is one (no wait), otherwise the next in turn.</summary>
    private Replica PickReplica(long minPosition)
    {
        int start = (int)((uint)Interlocked.Increment(ref _nextReplica) % (uint)_replicas.Count);
        for (int i = 0; i < _replicas.Count; i++)
        {
            var candidate = _replicas[(start + i) % _replicas.Count];
            if (candidate.IsReady && candidate.Applied.Current >= minPosition) return candidate;
        }
        return _replicas[start];
    }

    public IReadOnlyList<ReplicaStatus> ReplicaStatuses()
    {
        long primary = Primary.Position;
        var statuses = new List<ReplicaStatus>();
        var local = new HashSet<string>();
        foreach (var replica in _replicas)
        {
            local.Add(replica.Id);
            long applied = replica.Applied.Current;
            statuses.Add(new ReplicaStatus(replica.Id, "in-process", applied, primary, primary - applied,
                Primary.LagMilliseconds(applied), DateTime.UtcNow, replica.Lag.QuantileMilliseconds(0.5), replica.Lag.QuantileMilliseconds(0.99)));
        }
        foreach (var remote in Primary.Replicas.Where(r => !local.Contains(r.Id)).OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            statuses.Add(new ReplicaStatus(remote.Id, "remote", remote.AppliedPosition, primary, primary - remote.AppliedPosition,
                Primary.LagMilliseconds(remote.AppliedPosition), remote.LastSeenUtc, null, null));
        }
        return statuses;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas) await replica.DisposeAsync();
        Primary.Dispose();
    }
}
