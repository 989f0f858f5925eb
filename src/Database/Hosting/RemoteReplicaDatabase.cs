using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Http;
using DataPlane.Database.Replication;
using DataPlane.Database.Sessions;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Hosting;

/// <summary>
/// A database on a replica host (`dataplane db replica --primary URL`): reads are served from the
/// local copy once it has the session's bookmark; writes, and reads it cannot serve in time, are
/// forwarded to the primary with the caller's token and session.
/// </summary>
internal sealed class RemoteReplicaDatabase : IDatabaseFrontend
{
    private static readonly TimeSpan AccessCacheTime = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;
    private readonly DatabaseOptions _options;
    private readonly ConcurrentDictionary<string, (Access Access, DateTime Until)> _access = new();

    private RemoteReplicaDatabase(string name, HttpClient http, DatabaseOptions options, ILoggerFactory loggers)
    {
        Name = name;
        _http = http;
        _options = options;
        string replicaName = options.ReplicaName ?? Environment.MachineName.ToLowerInvariant();
        Replica = new Replica($"{replicaName}-{name}", Path.Combine(options.DataDirectory, name, "replica"),
            new HttpReplicationSource(http, name, options.PrimaryToken), options, loggers.CreateLogger<Replica>());
        Replica.Start();
    }

    public string Name { get; }

    public Replica Replica { get; }

    public static async Task<RemoteReplicaDatabase?> TryOpenAsync(string name, DatabaseOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = options.PrimaryUrl, Timeout = options.LogPollWait + TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync($"api/v1/databases/{name}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            http.Dispose();
            return null;
        }
        response.EnsureSuccessStatusCode();
        return new RemoteReplicaDatabase(name, http, options, loggers);
    }

    public async Task<QueryResult> QueryAsync(IReadOnlyList<SqlStatement> statements, SessionConstraint session, Access access, string? token, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        QueryResult? result = null;
        if (session.Start != SessionStart.FirstPrimary)
            result = await Replica.TryReadAsync(statements, session.MinPosition, _options.ReplicaReadTimeout, cancellationToken);
        if (result is null)
        {
            var client = new DatabaseClient(_http, token);
            result = await client.QueryAsync(Name, statements, session.ToString(), cancellationToken);
        }
        result.DurationMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return result;
    }

    /// <summary>
    /// Tokens live on the primary; its verdict is cached for a short while. When this host does not allow
    /// anonymous access, a database the primary lets in without a token (it has none) is refused here.
    /// </summary>
    public async Task<Access> AuthorizeAsync(string? token, CancellationToken cancellationToken)
    {
        if (!_options.AllowAnonymous && await CheckAsync(null, cancellationToken) != Access.None)
            throw new AccessPolicy(_options).ClosedWithoutTokens(Name);
        return await CheckAsync(token, cancellationToken);
    }

    private async Task<Access> CheckAsync(string? token, CancellationToken cancellationToken)
    {
        string key = token ?? "";
        if (_access.TryGetValue(key, out var cached) && cached.Until > DateTime.UtcNow) return cached.Access;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"db/{Name}/access");
        DatabaseClient.Authorize(request, token);
        using var response = await _http.SendAsync(request, cancellationToken);
        var access = Access.None;
        if (response.IsSuccessStatusCode)
        {
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            access = body.RootElement.GetProperty("access").GetString() == "read-write" ? Access.ReadWrite : Access.ReadOnly;
        }
        else if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            throw new DatabaseException(DatabaseErrorKind.Unavailable, $"The primary answered {(int)response.StatusCode} when checking the token.", "primary_unavailable");
        }
        _access[key] = (access, DateTime.UtcNow + AccessCacheTime);
        return access;
    }

    public IReadOnlyList<ReplicaStatus> ReplicaStatuses()
    {
        long applied = Replica.Applied.Current;
        long primary = Replica.PrimaryPosition;
        return [new ReplicaStatus(Replica.Id, "remote", applied, primary, primary - applied, null, DateTime.UtcNow,
            Replica.Lag.QuantileMilliseconds(0.5), Replica.Lag.QuantileMilliseconds(0.99))];
    }

    public async ValueTask DisposeAsync()
    {
        await Replica.DisposeAsync();
        _http.Dispose();
    }
}
