using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DataPlane.Database.Hosting;
using DataPlane.Database.Sessions;

namespace DataPlane.Database.Tests;

/// <summary>
/// Runaway statements are stopped: past Databases:StatementTimeoutSeconds (408 naming the limit, a write rolled back
/// so the write lock is free again), and when their client goes away. Copies stay equal to the primary. Results and
/// the number of databases are bounded too.
/// </summary>
public sealed class StatementLimitTests : IAsyncLifetime
{
    /// <summary>Counts forever: only an interrupt ends it.</summary>
    private const string Endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)";

    private readonly TempDirectory _dir = new();
    private DatabaseServer? _server;

    private async Task<DatabaseServer> StartAsync(TimeSpan statementTimeout, int replicas, int readConnections = 8)
    {
        _server = await DatabaseServer.StartAsync(new DatabaseOptions
        {
            DataDirectory = _dir.Path, SyncCommits = false, StatementTimeout = statementTimeout, ReadConnections = readConnections,
        });
        var created = await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return _server;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(HttpClient http, object body, string session = SessionConstraint.FirstPrimary,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "db/app/query")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(Bookmark.HeaderName, session);
        using var response = await http.SendAsync(request, cancellationToken);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone());
    }

    private static void AssertStoppedByTheLimit(HttpStatusCode status, JsonElement body)
    {
        Assert.True(HttpStatusCode.RequestTimeout == status, $"{status} {body}");
        Assert.Equal("statement_timeout", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("the limit (Databases:StatementTimeoutSeconds)", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Runaway_recursive_reads_on_the_primary_and_on_a_replica_are_stopped_by_the_limit()
    {
        var server = await StartAsync(TimeSpan.FromSeconds(1), replicas: 1);

        var onPrimary = QueryAsync(server.Http, new { sql = $"{Endless} SELECT count(*) FROM c" }, SessionConstraint.FirstPrimary);
        var onReplica = QueryAsync(server.Http, new { sql = $"{Endless} SELECT max(x) FROM c" }, SessionConstraint.FirstUnconstrained);

        var (primaryStatus, primaryBody) = await onPrimary;
        AssertStoppedByTheLimit(primaryStatus, primaryBody);
        var (replicaStatus, replicaBody) = await onReplica;
        AssertStoppedByTheLimit(replicaStatus, replicaBody);
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(server.Http, new { sql = "SELECT 1" }, SessionConstraint.FirstUnconstrained)).Status);
    }

    [Fact]
    public async Task A_runaway_write_is_stopped_by_the_limit_and_rolled_back_and_the_writes_behind_it_commit()
    {
        var server = await StartAsync(TimeSpan.FromSeconds(1), replicas: 2);
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(server.Http, new { sql = "CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)" })).Status);

        var runaway = QueryAsync(server.Http, new
        {
            batch = new[]
            {
                new { sql = "INSERT INTO t VALUES (-1, 'first statement of the batch')" },
                new { sql = $"{Endless} INSERT INTO t SELECT 1000 + x, randomblob(1000) FROM c" },
            },
        });
        // Sent beside the runaway, so usually queued behind it on the write lock: it commits once the runaway is stopped.
        // On a busy machine it may take the lock first; the runaway's ids start past it so that order changes nothing.
        var behind = QueryAsync(server.Http, new { sql = "INSERT INTO t VALUES (1, 'queued')" });

        var (status, body) = await runaway;
        AssertStoppedByTheLimit(status, body);
        Assert.Equal(HttpStatusCode.OK, (await behind).Status);
        var (next, _) = await QueryAsync(server.Http, new { sql = "INSERT INTO t VALUES (2, 'next')" });
        Assert.Equal(HttpStatusCode.OK, next);

        var (_, rows) = await QueryAsync(server.Http, new { sql = "SELECT id FROM t ORDER BY id" });
        Assert.Equal("[[1],[2]]", rows.GetProperty("results")[0].GetProperty("rows").GetRawText());
        var database = (ReplicatedDatabase)await server.Catalog.GetAsync("app");
        string expected = database.Primary.ContentHash();
        foreach (var replica in database.Replicas)
        {
            Assert.True(await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(30), default), $"{replica.Id} did not catch up");
            Assert.Equal(expected, replica.ContentHash(out _));
        }
    }

    [Fact]
    public async Task A_runaway_write_whose_client_goes_away_is_stopped_and_frees_the_write_lock()
    {
        // A limit no test waits for: only the client's disconnect can stop this write before the next one times out.
        var server = await StartAsync(TimeSpan.FromHours(1), replicas: 1);
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(server.Http, new { sql = "CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)" })).Status);
        var database = (ReplicatedDatabase)await server.Catalog.GetAsync("app");
        long before = database.Primary.Position;

        using (var gone = new CancellationTokenSource())
        {
            var runaway = QueryAsync(server.Http, new { sql = $"{Endless} INSERT INTO t SELECT x, randomblob(100) FROM c" }, cancellationToken: gone.Token);
            await WhileAsync(() => !WriteLockHeld(database), "the runaway write never took the write lock");
            gone.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runaway);
        }

        var (status, _) = await QueryAsync(server.Http, new { sql = "INSERT INTO t VALUES (1, 'after')" });
        Assert.Equal(HttpStatusCode.OK, status);
        var (_, rows) = await QueryAsync(server.Http, new { sql = "SELECT count(*) FROM t" });
        Assert.Equal("[[1]]", rows.GetProperty("results")[0].GetProperty("rows").GetRawText());
        Assert.Equal(before + 1, database.Primary.Position);
        Assert.True(await database.Replicas[0].Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(30), default));
        Assert.Equal(database.Primary.ContentHash(), database.Replicas[0].ContentHash(out _));
    }

    [Fact]
    public async Task A_runaway_read_whose_client_goes_away_is_stopped_and_frees_its_connection()
    {
        // One read connection and a limit no test waits for: the next read gets the connection only if the runaway let go.
        var server = await StartAsync(TimeSpan.FromHours(1), replicas: 0, readConnections: 1);
        var database = (ReplicatedDatabase)await server.Catalog.GetAsync("app");

        using (var gone = new CancellationTokenSource())
        {
            var runaway = QueryAsync(server.Http, new { sql = $"{Endless} SELECT count(*) FROM c" }, cancellationToken: gone.Token);
            await WhileAsync(() => !ReadConnectionTaken(database), "the runaway read never took the read connection");
            gone.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runaway);
        }

        var (status, body) = await QueryAsync(server.Http, new { sql = "SELECT 41 + 1" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[[42]]", body.GetProperty("results")[0].GetProperty("rows").GetRawText());
    }

    [Fact]
    public async Task Creating_more_databases_than_the_limit_is_409_naming_the_setting()
    {
        _server = await DatabaseServer.StartAsync(new DatabaseOptions { DataDirectory = _dir.Path, SyncCommits = false, MaxDatabases = 2 });
        Assert.Equal(HttpStatusCode.Created, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "a", replicas = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "b", replicas = 0 })).StatusCode);

        using var refused = await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "c", replicas = 0 });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var error = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("too_many_databases", error.GetProperty("code").GetString());
        Assert.Contains("Databases:MaxDatabases = 2", error.GetProperty("message").GetString());
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "c")));
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Http.DeleteAsync("api/v1/databases/a")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "c", replicas = 0 })).StatusCode);
    }

    [Fact]
    public async Task A_result_larger_than_the_byte_limit_is_400_before_it_is_copied_and_one_within_it_is_returned()
    {
        _server = await DatabaseServer.StartAsync(new DatabaseOptions { DataDirectory = _dir.Path, SyncCommits = false, MaxResultBytes = 1 << 20 });
        Assert.Equal(HttpStatusCode.Created, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 0 })).StatusCode);

        foreach (var sql in new[] { "SELECT randomblob(500000000)", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000) SELECT randomblob(1000) FROM c" })
        {
            var (status, body) = await QueryAsync(_server.Http, new { sql });
            Assert.True(HttpStatusCode.BadRequest == status, $"{sql}: {status}");
            Assert.Equal("result_too_large", body.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("larger than 1,048,576 bytes", body.GetProperty("error").GetProperty("message").GetString());
        }
        var (ok, rows) = await QueryAsync(_server.Http, new { sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 500) SELECT randomblob(1000) FROM c" });
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(500, rows.GetProperty("results")[0].GetProperty("rows").GetArrayLength());
    }

    private static bool WriteLockHeld(ReplicatedDatabase database) => database.Primary.WriteLockHeld;

    private static bool ReadConnectionTaken(ReplicatedDatabase database) => database.Primary.ReadConnectionsInUse > 0;

    private static async Task WhileAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _dir.Dispose();
    }
}
