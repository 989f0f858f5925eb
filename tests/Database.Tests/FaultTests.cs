using System.Net.Http.Json;
using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Sessions;
using DataPlane.TestServices;
using Xunit.Abstractions;

namespace DataPlane.Database.Tests;

/// <summary>Replicas and the primary stopped and started again, and replicas left behind log truncation.</summary>
public sealed class FaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static SqlStatement S(string sql, params object?[] p) => new(sql, p.Length == 0 ? null : p);

    private DatabaseOptions PrimaryOptions() => new()
    {
        DataDirectory = Path.Combine(_dir.Path, "primary"), SyncCommits = false, LogPollWait = TimeSpan.FromSeconds(2),
    };

    private DatabaseOptions ReplicaHostOptions(Uri primary) => new()
    {
        DataDirectory = Path.Combine(_dir.Path, "replica-host"), PrimaryUrl = primary, ReplicaName = "box",
        SyncCommits = false, LogPollWait = TimeSpan.FromSeconds(2), ReplicaReadTimeout = TimeSpan.FromSeconds(10),
    };

    private static async Task<long> WriteRowsAsync(DatabaseServer server, int count, string table = "t")
    {
        var client = server.Client();
        client.Session = SessionConstraint.FirstPrimary;
        QueryResult? last = null;
        for (int i = 0; i < count; i++)
            last = await client.QueryAsync("app", [S($"INSERT INTO {table}(r, at) VALUES (random(), datetime('now'))")]);
        return last!.Position;
    }

    private static async Task<QueryResult> ReadThroughAsync(DatabaseServer replicaHost, long bookmark) =>
        await replicaHost.Client().QueryAsync("app", [S("SELECT count(*) FROM t")], Bookmark.Format(bookmark));

    [Fact]
    public async Task A_restarted_primary_keeps_positions_monotonic_and_replicas_continue()
    {
        int port = DataPlaneProcess.FreePort();
        var primary = await DatabaseServer.StartAsync(PrimaryOptions(), port);
        (await primary.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 1 })).EnsureSuccessStatusCode();
        await primary.Client().QueryAsync("app", [S("CREATE TABLE t(id INTEGER PRIMARY KEY, r INTEGER, at TEXT)")], SessionConstraint.FirstPrimary);
        long before = await WriteRowsAsync(primary, 10);
        await using var replicaHost = await DatabaseServer.StartAsync(ReplicaHostOptions(primary.Address));
        Assert.Equal("box-app", (await ReadThroughAsync(replicaHost, before)).ServedBy);

        await primary.DisposeAsync();
        primary = await DatabaseServer.StartAsync(PrimaryOptions(), port);
        try
        {
            long after = await WriteRowsAsync(primary, 5);
            Assert.Equal(before + 5, after);
            var read = await ReadThroughAsync(replicaHost, after);
            Assert.Equal("box-app", read.ServedBy);
            Assert.Equal(15L, read.Results[0].Rows[0][0]);
            var local = (ReplicatedDatabase)await primary.Catalog.GetAsync("app");
            Assert.True(await local.Replicas[0].Applied.WaitAsync(after, TimeSpan.FromSeconds(20), default));
            Assert.Equal(local.Primary.ContentHash(), local.Replicas[0].ContentHash(out _));
            var remote = (RemoteReplicaDatabase)await replicaHost.Catalog.GetAsync("app");
            Assert.Equal(local.Primary.ContentHash(), remote.Replica.ContentHash(out long at));
            Assert.Equal(after, at);
        }
        finally
        {
            await primary.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_replica_cut_off_past_log_truncation_bootstraps_again_from_a_snapshot()
    {
        var options = PrimaryOptions();
        options.SnapshotEveryEntries = 25;
        options.LogSegmentBytes = 2048;
        var time = new ManualTime();
        options.Time = time;
        await using var primary = await DatabaseServer.StartAsync(options);
        (await primary.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 0 })).EnsureSuccessStatusCode();
        await primary.Client().QueryAsync("app", [S("CREATE TABLE t(id INTEGER PRIMARY KEY, r INTEGER, at TEXT)")], SessionConstraint.FirstPrimary);
        long before = await WriteRowsAsync(primary, 5);
        long cutOffAt;
        await using (var replicaHost = await DatabaseServer.StartAsync(ReplicaHostOptions(primary.Address)))
        {
            Assert.Equal("box-app", (await ReadThroughAsync(replicaHost, before)).ServedBy);
            cutOffAt = ((RemoteReplicaDatabase)await replicaHost.Catalog.GetAsync("app")).Replica.Applied.Current;
        }
        time.Advance(options.ReplicaLease + TimeSpan.FromSeconds(1)); // the stopped replica no longer holds truncation back
        long after = await WriteRowsAsync(primary, 150);
        var local = (ReplicatedDatabase)await primary.Catalog.GetAsync("app");
        for (int i = 0; i < 100 && local.Primary.LogFloor <= cutOffAt; i++) await Task.Delay(50);
        Assert.True(local.Primary.LogFloor > cutOffAt, $"log floor {local.Primary.LogFloor} not past the replica's {cutOffAt}");

        await using (var replicaHost = await DatabaseServer.StartAsync(ReplicaHostOptions(primary.Address)))
        {
            var read = await ReadThroughAsync(replicaHost, after);
            Assert.Equal("box-app", read.ServedBy);
            Assert.Equal(155L, read.Results[0].Rows[0][0]);
            var remote = (RemoteReplicaDatabase)await replicaHost.Catalog.GetAsync("app");
            Assert.Equal(1, remote.Replica.Bootstraps);
            Assert.Equal(local.Primary.ContentHash(), remote.Replica.ContentHash(out long at));
            Assert.Equal(after, at);
        }
    }

    [Fact]
    public async Task A_killed_replica_process_catches_up_when_started_again()
    {
        await using var primary = await DatabaseServer.StartAsync(PrimaryOptions());
        (await primary.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 0 })).EnsureSuccessStatusCode();
        await primary.Client().QueryAsync("app", [S("CREATE TABLE t(id INTEGER PRIMARY KEY, r INTEGER, at TEXT)")], SessionConstraint.FirstPrimary);
        long first = await WriteRowsAsync(primary, 10);
        string data = Path.Combine(_dir.Path, "replica-process");
        int port = DataPlaneProcess.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var replicaClient = new Http.DatabaseClient(http);

        await using (var process = StartReplicaProcess(primary.Address, port, data))
        {
            var read = await FromReplicaAsync(() => replicaClient.QueryAsync("app", [S("SELECT count(*) FROM t")], Bookmark.Format(first)));
            Assert.Equal("box-app", read.ServedBy);
            Assert.Equal(10L, read.Results[0].Rows[0][0]);
            await process.KillAsync();
        }

        await primary.Client().QueryAsync("app", [S("ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'x'")], SessionConstraint.FirstPrimary);
        long second = await WriteRowsAsync(primary, 10);
        await using (var process = StartReplicaProcess(primary.Address, port, data))
        {
            try
            {
                var read = await FromReplicaAsync(() => replicaClient.QueryAsync("app", [S("SELECT count(*), count(note) FROM t")], Bookmark.Format(second)));
                Assert.Equal("box-app", read.ServedBy);
                Assert.Equal(new object?[] { 20L, 20L }, read.Results[0].Rows[0]);
                Assert.True(read.Position >= second);
                var status = await primary.Http.GetFromJsonAsync<JsonElement>("db/app/replicas");
                var box = status.GetProperty("replicas").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "box-app");
                Assert.Equal("remote", box.GetProperty("kind").GetString());
                Assert.True(box.GetProperty("applied_position").GetInt64() >= second);
            }
            finally
            {
                await process.KillAsync();
                output.WriteLine(process.Output);
            }
        }
        var local = (ReplicatedDatabase)await primary.Catalog.GetAsync("app");
        using var copy = new SqliteLink(Path.Combine(data, "replica-databases", "app", "replica", "replica.sqlite"), readOnly: true, synchronous: "NORMAL");
        Assert.Equal(local.Primary.ContentHash(), ContentHash.Compute(copy, out long at));
        Assert.Equal(second, at);
    }

    // DataPlaneProcess reads the replica's output as it comes: an unread pipe that fills up would stall the replica.
    private static DataPlaneProcess StartReplicaProcess(Uri primary, int port, string data) =>
        DataPlaneProcess.Start(["db", "replica", "--primary", primary.ToString(), "--port", port.ToString(), "--data", data, "--name", "box", "--read-timeout-ms", "10000"]);

    /// <summary>Reads until the replica process itself answers: while it is still catching up to the bookmark, its
    /// host hands the read to the primary (which a fast machine reaches first), so the first answers may be the primary's.</summary>
    private static async Task<QueryResult> FromReplicaAsync(Func<Task<QueryResult>> read)
    {
        for (int attempt = 0; ; attempt++)
        {
            var answer = await RetryAsync(read);
            if (answer.ServedBy != "primary" || attempt >= 300) return answer;
            await Task.Delay(100);
        }
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception e) when (attempt < 300 && (e is HttpRequestException || e is DatabaseException { Kind: DatabaseErrorKind.NotFound }))
            {
                await Task.Delay(100);
            }
        }
    }

    public void Dispose() => _dir.Dispose();
}
