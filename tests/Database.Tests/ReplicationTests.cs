using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace DataPlane.Database.Tests;

public sealed class ReplicationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private DatabaseOptions Options() => new() { DataDirectory = _dir.Path, SyncCommits = false, LogPollWait = TimeSpan.FromSeconds(1) };

    private static SqlStatement S(string sql, params object?[] p) => new(sql, p.Length == 0 ? null : p);

    private static async Task WaitForReplicasAsync(ReplicatedDatabase database)
    {
        foreach (var replica in database.Replicas)
            Assert.True(await replica.Applied.WaitAsync(database.Primary.Position, TimeSpan.FromSeconds(20), default), $"{replica.Id} did not catch up");
    }

    [Fact]
    public async Task Replicas_hold_the_same_rows_as_the_primary_including_random_time_and_schema_changes()
    {
        await using var database = new ReplicatedDatabase("app", Path.Combine(_dir.Path, "app"), 2, Options(), NullLoggerFactory.Instance);
        var primary = database.Primary;
        await primary.WriteAsync([S("CREATE TABLE t(id INTEGER PRIMARY KEY, r INTEGER, at TEXT, b BLOB)")], default);
        await primary.WriteAsync([S("CREATE TABLE plain(x, y)")], default); // no PRIMARY KEY: a rowid table
        for (int i = 0; i < 20; i++)
        {
            await primary.WriteAsync([
                S("INSERT INTO t(r, at, b) VALUES (random(), datetime('now'), randomblob(8))"),
                S("INSERT INTO plain VALUES (random(), ?)", i),
            ], default);
        }
        await primary.WriteAsync([
            S("UPDATE t SET r = random() WHERE id % 2 = 0"),
            S("ALTER TABLE t ADD COLUMN extra TEXT"),
            S("UPDATE t SET extra = hex(randomblob(4))"),
            S("DELETE FROM plain WHERE rowid % 3 = 0"),
            S("CREATE INDEX t_r ON t(r)"),
        ], default);
        var result = await primary.WriteAsync([S("INSERT INTO plain VALUES (1, 2) RETURNING rowid")], default);
        Assert.Single(result.Results[0].Rows);

        await WaitForReplicasAsync(database);
        string expected = primary.ContentHash();
        foreach (var replica in database.Replicas)
        {
            Assert.Equal(expected, replica.ContentHash(out long position));
            Assert.Equal(primary.Position, position);
        }
        var read = await database.Replicas[0].TryReadAsync([S("SELECT count(*), count(extra) FROM t")], primary.Position, TimeSpan.FromSeconds(5), default);
        Assert.NotNull(read);
        Assert.Equal(new object?[] { 20L, 20L }, read.Results[0].Rows[0]);
    }

    [Fact]
    public async Task Create_table_as_select_replicates_the_primarys_rows_not_a_rerun_of_the_select()
    {
        await using var database = new ReplicatedDatabase("app", Path.Combine(_dir.Path, "app"), 2, Options(), NullLoggerFactory.Instance);
        var primary = database.Primary;
        await primary.WriteAsync([S("CREATE TABLE src(id INTEGER PRIMARY KEY, name TEXT)")], default);
        for (int i = 0; i < 50; i++) await primary.WriteAsync([S("INSERT INTO src(name) VALUES (?)", $"n{i}")], default);
        var created = await primary.WriteAsync([
            S("CREATE TABLE copy AS SELECT id, name, random() AS r, datetime('now') AS at, randomblob(4) AS b FROM src WHERE id % 2 = 0"),
            S("INSERT INTO copy(id, name, r) VALUES (1000, 'later in the batch', random())"),
        ], default);
        await primary.WriteAsync([S("CREATE TABLE IF NOT EXISTS copy AS SELECT 1 AS other")], default);
        await primary.WriteAsync([S("CREATE TABLE empty AS SELECT * FROM src WHERE 0")], default);

        await WaitForReplicasAsync(database);
        string expected = primary.ContentHash();
        foreach (var replica in database.Replicas) Assert.Equal(expected, replica.ContentHash(out _));
        var read = await database.Replicas[0].TryReadAsync([S("SELECT count(*), count(DISTINCT r), max(id) FROM copy")], created.Position, TimeSpan.FromSeconds(5), default);
        Assert.NotNull(read);
        Assert.Equal(new object?[] { 26L, 26L, 1000L }, read.Results[0].Rows[0]);
        var tables = await database.Replicas[0].TryReadAsync([S("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '!_dataplane%' ESCAPE '!' ORDER BY name")], primary.Position, TimeSpan.FromSeconds(5), default);
        Assert.Equal(new[] { "copy", "empty", "src" }, tables!.Results[0].Rows.Select(r => (string?)r[0]));
    }

    [Fact]
    public async Task Positions_grow_by_one_per_writing_transaction_and_reads_report_the_state_they_saw()
    {
        await using var database = new ReplicatedDatabase("app", Path.Combine(_dir.Path, "app"), 0, Options(), NullLoggerFactory.Instance);
        var first = await database.Primary.WriteAsync([S("CREATE TABLE t(x)")], default);
        var second = await database.Primary.WriteAsync([S("INSERT INTO t VALUES (1)"), S("INSERT INTO t VALUES (2)")], default);
        var noop = await database.Primary.WriteAsync([S("DELETE FROM t WHERE x = 99")], default);
        Assert.Equal(first.Position + 1, second.Position);
        Assert.Equal(second.Position, noop.Position);
        var read = await database.QueryAsync([S("SELECT sum(x) FROM t")], SessionConstraint.Primary, Access.ReadWrite, null, default);
        Assert.Equal(second.Position, read.Position);
        Assert.Equal(3L, read.Results[0].Rows[0][0]);
    }

    [Fact]
    public async Task A_restarted_primary_keeps_its_rows_and_continues_positions_after_the_last_one()
    {
        string dir = Path.Combine(_dir.Path, "app");
        long last;
        await using (var database = new ReplicatedDatabase("app", dir, 1, Options(), NullLoggerFactory.Instance))
        {
            await database.Primary.WriteAsync([S("CREATE TABLE t(x)")], default);
            for (int i = 0; i < 5; i++) await database.Primary.WriteAsync([S("INSERT INTO t VALUES (?)", i)], default);
            last = database.Primary.Position;
            await WaitForReplicasAsync(database);
        }
        await using (var database = new ReplicatedDatabase("app", dir, 1, Options(), NullLoggerFactory.Instance))
        {
            Assert.Equal(last, database.Primary.Position);
            var next = await database.Primary.WriteAsync([S("INSERT INTO t VALUES (100)")], default);
            Assert.Equal(last + 1, next.Position);
            await WaitForReplicasAsync(database);
            Assert.Equal(database.Primary.ContentHash(), database.Replicas[0].ContentHash(out _));
            Assert.Equal(0, database.Replicas[0].Bootstraps); // resumed from its own file, not a new snapshot
        }
    }

    public void Dispose() => _dir.Dispose();
}
