using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using DataPlane.Database.Execution;
using DataPlane.Database.Http;
using DataPlane.Database.Sessions;
using DataPlane.Http;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Hosting;

/// <summary>
/// The databases this host serves, by name. On a primary host each lives in
/// <c>DataDirectory/NAME/</c> with a <c>database.json</c>; on a replica host (PrimaryUrl set) each is
/// a replica of the primary's database of the same name.
/// </summary>
public sealed partial class DatabaseCatalog : IAsyncDisposable
{
    private sealed record DatabaseManifest(string Name, int Replicas);

    private const string ManifestFile = "database.json";

    private readonly DatabaseOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, IDatabaseFrontend> _databases = new(StringComparer.Ordinal);
    // Names whose folder a delete is still removing: a database created under one meanwhile would get that folder.
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    private bool _opened;

    private readonly Histogram<double>? _applyLag;

    /// <param name="meters">The host's factory, for the replicas' apply-lag histogram; none in tests of the catalog alone.</param>
    public DatabaseCatalog(DatabaseOptions options, ILoggerFactory loggers, IMeterFactory? meters = null)
    {
        _options = options;
        _loggers = loggers;
        _applyLag = meters?.Create(DatabaseMetrics.MeterName).CreateHistogram("dataplane_db_replica_apply_lag_seconds", "s",
            "Time from durable commit on the primary to visible on the replica, per transaction.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = PrometheusMetrics.LatencyBuckets });
    }

    private T Measured<T>(T database) where T : IDatabaseFrontend
    {
        if (_applyLag is null) return database;
        if (database is ReplicatedDatabase local)
            foreach (var replica in local.Replicas) replica.MeasureApplyLag(_applyLag, local.Name, "in-process");
        else if (database is RemoteReplicaDatabase remote)
            remote.Replica.MeasureApplyLag(_applyLag, remote.Name, "remote");
        return database;
    }

    /// <summary>In-process replicas one database may have.</summary>
    public const int MaxReplicas = 16;

    public DatabaseOptions Options => _options;

    public bool IsReplicaHost => _options.PrimaryUrl is not null;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,62}\z")]
    private static partial Regex NamePattern();

    /// <summary>Opens every database found in the data directory (primary host) or on the primary (replica host).</summary>
    public async Task OpenAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_opened) return;
            _opened = true;
            if (IsReplicaHost) return;
            Directory.CreateDirectory(_options.DataDirectory);
            foreach (var dir in Directory.GetDirectories(_options.DataDirectory).Order(StringComparer.Ordinal))
            {
                string manifestPath = Path.Combine(dir, ManifestFile);
                if (!File.Exists(manifestPath)) continue;
                var manifest = JsonSerializer.Deserialize<DatabaseManifest>(await File.ReadAllTextAsync(manifestPath, cancellationToken))!;
                _databases[manifest.Name] = Measured(new ReplicatedDatabase(manifest.Name, dir, manifest.Replicas, _options, _loggers));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<DatabaseInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await OpenAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return [.. _databases.Values.OrderBy(d => d.Name, StringComparer.Ordinal).Select(Describe)];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<DatabaseInfo> CreateAsync(string name, int? replicas, CancellationToken cancellationToken = default)
    {
        if (IsReplicaHost) throw new DatabaseException(DatabaseErrorKind.BadRequest, "This is a replica host; create databases on the primary.", "replica_host");
        if (name is null || !NamePattern().IsMatch(name))
            throw new DatabaseException(DatabaseErrorKind.BadRequest,
                $"Database name '{name}' is not valid: use 1-63 characters a-z, 0-9, '_' or '-', starting with a letter or digit.", "bad_name");
        int count = replicas ?? _options.DefaultReplicas;
        if (count is < 0 or > MaxReplicas)
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"\"replicas\" must be between 0 and {MaxReplicas} (got {count}).", "bad_replicas");
        await OpenAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_databases.ContainsKey(name))
                throw new DatabaseException(DatabaseErrorKind.Conflict, $"Database '{name}' already exists.", "database_exists");
            if (_deleting.Contains(name))
                throw new DatabaseException(DatabaseErrorKind.Conflict, $"Database '{name}' is being deleted; create it again once its delete is done.", "database_being_deleted");
            if (_databases.Count >= _options.MaxDatabases)
                throw new DatabaseException(DatabaseErrorKind.Conflict,
                    $"This server already holds {_databases.Count} databases, its limit (Databases:MaxDatabases = {_options.MaxDatabases}): " +
                    "delete one, or raise the setting.", "too_many_databases");
            string dir = Path.Combine(_options.DataDirectory, name);
            if (Directory.Exists(dir))
            {
                // A folder holding a manifest is a database (loaded under the name its manifest gives): never reused.
                if (File.Exists(Path.Combine(dir, ManifestFile)))
                    throw new DatabaseException(DatabaseErrorKind.Conflict,
                        $"The folder of database '{name}' ({dir}) holds a database already (its {ManifestFile} names another); move it away first.", "database_exists");
                // Safe: the name is a plain folder name (NamePattern), no database and no delete in progress owns the
                // folder, and it has no manifest: what a create (manifest written last) or a delete (manifest removed
                // first) cut short by a crash left. Opening it instead would bring back a deleted database's rows and tokens.
                Directory.Delete(dir, recursive: true);
            }
            Directory.CreateDirectory(dir);
            var database = Measured(new ReplicatedDatabase(name, dir, count, _options, _loggers));
            await File.WriteAllTextAsync(Path.Combine(dir, ManifestFile), JsonSerializer.Serialize(new DatabaseManifest(name, count)), cancellationToken);
            _databases[name] = database;
            return Describe(database);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Deletes the database and, on a primary host, its folder. Requests that found it before run to their end on what
    /// they have open or are refused (<see cref="Primary.PrimaryDatabase.Dispose"/>); the name stays taken until the
    /// folder is gone.
    /// </summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await OpenAsync(cancellationToken);
        IDatabaseFrontend? database;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_databases.Remove(name, out database)) return false;
            _deleting.Add(name);
        }
        finally
        {
            _gate.Release();
        }
        try
        {
            await database.DisposeAsync();
            if (database is ReplicatedDatabase local)
            {
                // Safe: the folder this database was created in or loaded from, closed above (replicas stopped, the
                // primary's files closed), which no database can be created in until this returns (_deleting). The
                // manifest goes first, so a crash mid-delete leaves a folder that is neither loaded nor reused as it is.
                File.Delete(Path.Combine(local.Directory, ManifestFile));
                Directory.Delete(local.Directory, recursive: true);
            }
        }
        finally
        {
            await _gate.WaitAsync(CancellationToken.None);
            _deleting.Remove(name);
            _gate.Release();
        }
        return true;
    }

    internal async Task<IDatabaseFrontend> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        await OpenAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_databases.TryGetValue(name, out var database)) return database;
            if (IsReplicaHost && NamePattern().IsMatch(name))
            {
                var remote = await RemoteReplicaDatabase.TryOpenAsync(name, _options, _loggers, cancellationToken);
                if (remote is not null) Measured(remote);
                if (remote is not null)
                {
                    _databases[name] = remote;
                    return remote;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
        throw new DatabaseException(DatabaseErrorKind.NotFound, $"Database '{name}' does not exist.", "database_not_found");
    }

    /// <summary>On a replica host: starts replicating these databases now rather than on first use.</summary>
    public async Task ReplicateAsync(IEnumerable<string> names, CancellationToken cancellationToken = default)
    {
        foreach (var name in names)
        {
            try
            {
                await GetAsync(name, cancellationToken);
            }
            catch (DatabaseException e) when (e.Kind == DatabaseErrorKind.NotFound)
            {
                // Deleted on the primary since it was listed.
            }
        }
    }

    /// <summary>On a replica host: the names of the primary's databases.</summary>
    public async Task<IReadOnlyList<string>> ListPrimaryDatabasesAsync(CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = _options.PrimaryUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var body = JsonDocument.Parse(await http.GetStringAsync("api/v1/databases", cancellationToken));
        return [.. body.RootElement.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()!)];
    }

    /// <summary>
    /// A read for a caller in this process (a pipeline's lookup join): served where the session allows (a replica at
    /// or past its bookmark, else the primary), read-only. A <see cref="DatabaseException"/> as the HTTP API would answer.
    /// </summary>
    public async Task<QueryResult> ReadAsync(string name, IReadOnlyList<SqlStatement> statements, SessionConstraint session, CancellationToken cancellationToken = default) =>
        await (await GetAsync(name, cancellationToken)).QueryAsync(statements, session, Access.ReadOnly, token: null, cancellationToken);

    /// <summary>The newest log position of a database whose primary this process holds: a read at or past it sees every commit so far.</summary>
    public async Task<long> PositionAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetLocalAsync(name, cancellationToken)).Primary.Position;

    internal async Task<ReplicatedDatabase> GetLocalAsync(string name, CancellationToken cancellationToken = default) =>
        await GetAsync(name, cancellationToken) as ReplicatedDatabase
        ?? throw new DatabaseException(DatabaseErrorKind.BadRequest, $"Database '{name}' is a replica here; ask its primary.", "replica_host");

    public async Task<(string Id, string Token)> IssueTokenAsync(string name, Access access, CancellationToken cancellationToken = default)
    {
        if (access == Access.None) throw new DatabaseException(DatabaseErrorKind.BadRequest, "A token needs read-only or read-write access.", "bad_access");
        return (await GetLocalAsync(name, cancellationToken)).Tokens.Issue(access);
    }

    internal IReadOnlyList<IDatabaseFrontend> Snapshot()
    {
        _gate.Wait();
        try
        {
            return [.. _databases.Values];
        }
        finally
        {
            _gate.Release();
        }
    }

    private static DatabaseInfo Describe(IDatabaseFrontend database) => database switch
    {
        ReplicatedDatabase local => new DatabaseInfo(local.Name, local.Replicas.Count, Sessions.Bookmark.Format(local.Primary.Position), local.Primary.Position),
        _ => new DatabaseInfo(database.Name, 1, null, null),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var database in Snapshot()) await database.DisposeAsync();
        _databases.Clear();
    }
}
