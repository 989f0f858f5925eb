using System.Collections.Concurrent;
using System.Net.Http.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Sessions;
using Xunit.Abstractions;

namespace DataPlane.Database.Tests;

/// <summary>
/// Concurrent client sessions against a primary with three replicas, checked afterwards from the
/// recorded history for read-your-writes, monotonic reads, monotonic writes and writes-follow-reads.
/// </summary>
public sealed class SessionGuaranteeTests(ITestOutputHelper output) : IDisposable
{
    private const int Sessions = 8;
    private const int OperationsPerSession = 40;

    private readonly TempDirectory _dir = new();

    private sealed record Operation(int Session, int Index, string Kind, string SentSession, long Position, string ServedBy,
        long? Counter, long? EventCount, long? ExpectedCounter, long? EventsInserted, int? Seq);

    [Fact]
    public async Task Every_session_gets_the_four_guarantees_and_replicas_end_identical_to_the_primary()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        await using var server = await DatabaseServer.StartAsync(new DatabaseOptions
        {
            DataDirectory = _dir.Path, SyncCommits = false, ReplicaReadTimeout = TimeSpan.FromSeconds(5), SnapshotEveryEntries = 100,
        });
        (await server.Http.PostAsJsonAsync("api/v1/databases", new { name = "check", replicas = 3 })).EnsureSuccessStatusCode();
        var setup = server.Client();
        setup.Session = SessionConstraint.FirstPrimary;
        await setup.QueryAsync("check", [
            new SqlStatement("CREATE TABLE counters(session INTEGER PRIMARY KEY, v INTEGER NOT NULL)"),
            new SqlStatement("CREATE TABLE events(id INTEGER PRIMARY KEY, session INTEGER NOT NULL, seq INTEGER NOT NULL, saw INTEGER NOT NULL, r INTEGER, at TEXT)"),
            new SqlStatement("WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < ?) INSERT INTO counters SELECT v, 0 FROM n", [(long)Sessions - 1]),
        ]);

        var history = new ConcurrentBag<Operation>();
        await Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Task.Run(() => RunSessionAsync(server, s, new Random(seed + s), history))));

        var database = (ReplicatedDatabase)await server.Catalog.GetAsync("check");
        Check(history.ToList(), await FinalEventsAsync(server));

        long position = database.Primary.Position;
        string expected = database.Primary.ContentHash();
        foreach (var replica in database.Replicas)
        {
            Assert.True(await replica.Applied.WaitAsync(position, TimeSpan.FromSeconds(30), default), $"{replica.Id} did not reach {position}");
            Assert.Equal(expected, replica.ContentHash(out long at));
            Assert.Equal(position, at);
        }
        int servedByReplicas = history.Count(o => o.ServedBy != "primary");
        output.WriteLine($"{history.Count} operations, {servedByReplicas} served by replicas, final position {position}");
        Assert.True(servedByReplicas > 0, "no read was served by a replica; the test would not exercise sessions");
    }

    private static async Task RunSessionAsync(DatabaseServer server, int s, Random random, ConcurrentBag<Operation> history)
    {
        var client = server.Client();
        string session = random.Next(2) == 0 ? SessionConstraint.FirstUnconstrained : SessionConstraint.FirstPrimary;
        long writes = 0, seq = 0, sawEvents = 0;
        int tables = 0;
        for (int i = 0; i < OperationsPerSession; i++)
        {
            int roll = random.Next(100);
            string sent = session;
            QueryResult result;
            if (roll < 45)
            {
                result = await client.QueryAsync("check", [
                    new SqlStatement("SELECT v FROM counters WHERE session = ?", [(long)s]),
                    new SqlStatement("SELECT count(*) FROM events"),
                ], sent);
                long counter = (long)result.Results[0].Rows[0][0]!, count = (long)result.Results[1].Rows[0][0]!;
                sawEvents = Math.Max(sawEvents, count);
                history.Add(new Operation(s, i, "read", sent, result.Position, result.ServedBy, counter, count, writes, null, null));
            }
            else if (roll < 80)
            {
                seq++;
                // The insert only happens if the primary already holds every event this session has seen.
                var statements = new List<SqlStatement>
                {
                    new("UPDATE counters SET v = v + 1 WHERE session = :s RETURNING v", null, new Dictionary<string, object?> { ["s"] = (long)s }),
                    new("INSERT INTO events(session, seq, saw, r, at) SELECT ?1, ?2, ?3, random(), datetime('now') WHERE (SELECT count(*) FROM events) >= ?3",
                        [(long)s, seq, sawEvents]),
                };
                if (random.Next(3) == 0) statements.Add(new SqlStatement("UPDATE events SET r = random() WHERE id = (SELECT max(id) FROM events WHERE session = ?)", [(long)s]));
                result = await client.QueryAsync("check", statements, sent);
                writes++;
                history.Add(new Operation(s, i, "write", sent, result.Position, result.ServedBy,
                    (long)result.Results[0].Rows[0][0]!, null, writes, result.Results[1].RowsWritten, (int)seq));
            }
            else if (roll < 90)
            {
                tables++;
                string table = $"side_{s}_{tables}";
                var statements = new List<SqlStatement>
                {
                    new($"CREATE TABLE {table}(id INTEGER PRIMARY KEY, x INTEGER, at TEXT DEFAULT CURRENT_TIMESTAMP)"),
                    new($"WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 5) INSERT INTO {table}(x) SELECT random() FROM n"),
                };
                if (random.Next(2) == 0) statements.Add(new SqlStatement($"ALTER TABLE {table} ADD COLUMN y INTEGER DEFAULT 7"));
                result = await client.QueryAsync("check", statements, sent);
                history.Add(new Operation(s, i, "ddl", sent, result.Position, result.ServedBy, null, null, null, null, null));
                // Read your own schema change, wherever the read lands.
                session = Bookmark.Format(result.Position);
                var check = await client.QueryAsync("check", [new SqlStatement($"SELECT count(*) FROM {table}")], session);
                Assert.Equal(5L, check.Results[0].Rows[0][0]);
                Assert.True(check.Position >= result.Position);
                result = check;
            }
            else
            {
                result = await client.QueryAsync("check", [new SqlStatement("SELECT count(*), max(id) FROM events")], sent);
                long count = (long)result.Results[0].Rows[0][0]!;
                sawEvents = Math.Max(sawEvents, count);
                history.Add(new Operation(s, i, "read", sent, result.Position, result.ServedBy, null, count, writes, null, null));
            }
            session = Bookmark.Format(result.Position);
        }
    }

    private static async Task<List<(long Session, long Seq, long Id)>> FinalEventsAsync(DatabaseServer server)
    {
        var result = await server.Client().QueryAsync("check", [new SqlStatement("SELECT session, seq, id FROM events ORDER BY id")], SessionConstraint.FirstPrimary);
        return [.. result.Results[0].Rows.Select(r => ((long)r[0]!, (long)r[1]!, (long)r[2]!))];
    }

    private static void Check(List<Operation> history, List<(long Session, long Seq, long Id)> events)
    {
        var writes = history.Where(o => o.Kind == "write").ToList();
        var writePositions = writes.Select(w => w.Position).Order().ToArray();
        foreach (var group in history.GroupBy(o => o.Session))
        {
            var ops = group.OrderBy(o => o.Index).ToList();
            long lastPosition = -1, lastCount = -1, lastWrite = -1;
            foreach (var op in ops)
            {
                string where = $"session {op.Session} op {op.Index} ({op.Kind}, sent {op.SentSession}, got {op.Position} from {op.ServedBy})";
                // Monotonic reads (and every response at or after the bookmark sent).
                Assert.True(op.Position >= lastPosition, $"{where}: position went back from {lastPosition}");
                if (Bookmark.TryParse(op.SentSession, out long sentPosition)) Assert.True(op.Position >= sentPosition, $"{where}: older than its bookmark");
                if (op.Kind == "read")
                {
                    // Read-your-writes: this session alone writes its counter.
                    if (op.Counter is { } counter) Assert.True(counter == op.ExpectedCounter, $"{where}: counter {counter}, wrote {op.ExpectedCounter}");
                    Assert.True(op.EventCount >= lastCount, $"{where}: saw {op.EventCount} events after {lastCount}");
                    lastCount = op.EventCount!.Value;
                    // The bookmark names exactly the state read: events committed at or before it.
                    long committed = writePositions.Count(p => p <= op.Position);
                    Assert.True(op.EventCount == committed, $"{where}: saw {op.EventCount} events but {committed} were committed by then");
                }
                if (op.Kind == "write")
                {
                    // Monotonic writes: applied in issue order, each after the previous one.
                    Assert.True(op.Position > lastWrite, $"{where}: write committed at {op.Position} before an earlier write at {lastWrite}");
                    Assert.True(op.Counter == op.ExpectedCounter, $"{where}: counter {op.Counter} after {op.ExpectedCounter} writes");
                    // Writes-follow-reads: the primary held every event the session had read.
                    Assert.True(op.EventsInserted == 1, $"{where}: its event was not inserted, so the primary was behind what the session read");
                    Assert.True(op.Position > lastPosition, $"{where}: write ordered before state the session already saw ({lastPosition})");
                    lastWrite = op.Position;
                }
                lastPosition = op.Position;
            }
            var ids = events.Where(e => e.Session == group.Key).OrderBy(e => e.Seq).Select(e => e.Id).ToList();
            Assert.Equal(ids.Order(), ids);
        }
        Assert.Equal(writes.Count, events.Count);
    }

    public void Dispose() => _dir.Dispose();
}
