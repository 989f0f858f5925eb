using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Primary;
using DataPlane.Database.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace DataPlane.Database.Tests;

/// <summary>
/// A database's delete removes its folder: never one a database created again under the name meanwhile owns, never a
/// half-deleted one brought back as a new database after a crash, and requests that found the database before its delete
/// get an answer instead of a hang or an error from files that are gone.
/// </summary>
public sealed class DeleteTests : IAsyncLifetime
{
    private const string Endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)";

    private readonly TempDirectory _dir = new();
    private readonly List<DatabaseCatalog> _catalogs = [];

    // A statement limit no test waits for: only the test stops its runaway write.
    private DatabaseCatalog Open()
    {
        var catalog = new DatabaseCatalog(new DatabaseOptions { DataDirectory = _dir.Path, SyncCommits = false, StatementTimeout = TimeSpan.FromHours(1) }, NullLoggerFactory.Instance);
        _catalogs.Add(catalog);
        return catalog;
    }

    private static Task<QueryResult> RunAsync(IDatabaseFrontend database, string sql, CancellationToken cancellationToken = default) =>
        database.QueryAsync([new SqlStatement(sql)], SessionConstraint.Primary, Access.ReadWrite, null, cancellationToken);

    private static async Task<long> TablesAsync(IDatabaseFrontend database) =>
        (long)(await RunAsync(database, "SELECT count(*) FROM sqlite_schema WHERE name = 't'")).Results[0].Rows[0][0]!;

    [Fact]
    public async Task A_database_created_again_after_a_delete_cut_short_by_a_crash_has_none_of_the_old_rows_or_tokens()
    {
        var before = Open();
        await before.CreateAsync("app", replicas: 1);
        var old = await before.GetAsync("app");
        await RunAsync(old, "CREATE TABLE t(id INTEGER PRIMARY KEY, secret TEXT)");
        await RunAsync(old, "INSERT INTO t(secret) VALUES ('old')");
        await before.IssueTokenAsync("app", Access.ReadWrite);
        await before.DisposeAsync();
        // kill -9 after the delete's first step: the manifest is gone, the database's files are not.
        File.Delete(Path.Combine(_dir.Path, "app", "database.json"));

        var after = Open();
        Assert.Empty(await after.ListAsync());
        await after.CreateAsync("app", replicas: 1);
        var created = await after.GetAsync("app");

        Assert.Equal(0, await TablesAsync(created));
        Assert.True(((ReplicatedDatabase)created).Tokens.IsOpen, "the new database has the deleted one's tokens");
        Assert.Equal(Access.ReadWrite, ((ReplicatedDatabase)created).Tokens.Check(null));
    }

    [Fact]
    public async Task Requests_that_found_the_database_before_its_delete_are_refused_instead_of_hanging_or_failing()
    {
        var catalog = Open();
        await catalog.CreateAsync("app", replicas: 1);
        var database = await catalog.GetAsync("app");
        await RunAsync(database, "CREATE TABLE t(id INTEGER PRIMARY KEY)");

        Assert.True(await catalog.DeleteAsync("app"));

        // The write waited for a lock the closed database never gave back; the read opened a file in a removed folder.
        var write = await Assert.ThrowsAsync<DatabaseException>(() => RunAsync(database, "INSERT INTO t VALUES (1)").WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(DatabaseErrorKind.NotFound, write.Kind);
        var read = await Assert.ThrowsAsync<DatabaseException>(() => RunAsync(database, "SELECT count(*) FROM t"));
        Assert.Equal(DatabaseErrorKind.NotFound, read.Kind);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "app")));
    }

    [Fact]
    public async Task A_database_created_again_while_its_delete_waits_for_a_write_is_refused_and_the_next_one_starts_empty()
    {
        var catalog = Open();
        await catalog.CreateAsync("app", replicas: 0);
        var old = (ReplicatedDatabase)await catalog.GetAsync("app");
        await RunAsync(old, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
        await RunAsync(old, "INSERT INTO t VALUES (1)");

        using var stop = new CancellationTokenSource();
        var runaway = Task.Run(() => RunAsync(old, $"{Endless} INSERT INTO t SELECT x + 1 FROM c", stop.Token));
        await WhileAsync(() => !old.Primary.WriteLockHeld, "the write never took the write lock");
        var deleting = Task.Run(() => catalog.DeleteAsync("app")); // closes the database once the write is done
        await WhileAsync(() => catalog.ListAsync().Result.Count > 0, "the delete never took the database out of the catalog");

        var refused = await Assert.ThrowsAsync<DatabaseException>(() => catalog.CreateAsync("app", replicas: 0));
        Assert.Equal(DatabaseErrorKind.Conflict, refused.Kind);
        Assert.Contains("being deleted", refused.Message);

        stop.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => runaway);
        Assert.True(await deleting);
        await catalog.CreateAsync("app", replicas: 0);
        var created = await catalog.GetAsync("app");
        Assert.Equal(0, await TablesAsync(created));
        await RunAsync(created, "CREATE TABLE t(id INTEGER PRIMARY KEY)");
        await RunAsync(created, "INSERT INTO t VALUES (7)");

        // What the new database acknowledged is in its folder, read again after a restart.
        await catalog.DisposeAsync();
        var reopened = Open();
        var again = await reopened.GetAsync("app");
        Assert.Equal(7L, (await RunAsync(again, "SELECT id FROM t")).Results[0].Rows.Single()[0]);
    }

    [Fact]
    public void A_snapshot_cut_short_by_a_crash_leaves_no_file_behind_and_finished_snapshots_stay()
    {
        string directory = Path.Combine(_dir.Path, "snapshots");
        Directory.CreateDirectory(directory);
        // What a kill -9 during the backup leaves: the temp database and SQLite's WAL (a copy of the pages) and shared memory.
        foreach (var name in new[] { "0123abcd.tmp", "0123abcd.tmp-wal", "0123abcd.tmp-shm", "4567ef.tmp-wal" })
            File.WriteAllBytes(Path.Combine(directory, name), new byte[4096]);
        string finished = Path.Combine(directory, "snapshot-00000000000000000042.sqlite");
        File.WriteAllBytes(finished, new byte[4096]);

        var store = new SnapshotStore(directory);

        Assert.Equal([finished], Directory.GetFiles(directory));
        Assert.Equal(42, store.Latest!.Position);
    }

    private static async Task WhileAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(10);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 calls only the former on a test class, and the processes must not outlive the test
    public async Task DisposeAsync()
    {
        foreach (var catalog in _catalogs) await catalog.DisposeAsync();
        _dir.Dispose();
    }
}
