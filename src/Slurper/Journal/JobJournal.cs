using System.Diagnostics;
using Dapper;
using DataPlane.Storage;
using Microsoft.Data.Sqlite;

namespace DataPlane.Slurper.Journal;

/// <summary>
/// The job journal: one SQLite file per job recording every listed object's state, the list pages already
/// enqueued, and the run. It is also the embedded work queue: pending objects are leased in batches
/// partition by partition, and a lease that is not renewed (its worker died) returns the batch to the queue.
/// One connection serialized by a lock: every statement is short, and completions are written in batches.
/// </summary>
internal sealed class JobJournal : IDisposable
{
    readonly SqliteConnection connection;
    readonly Lock gate = new();
    int partitions = 16;

    // Leases and retry times are read against this clock, so a test can let a lease run out without waiting for it.
    readonly TimeProvider time;

    JobJournal(SqliteConnection connection, TimeProvider time)
    {
        this.connection = connection;
        this.time = time;
    }

    public string Path { get; private init; } = "";

    public static string DefaultDirectory() =>
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dataplane", "slurp");

    public static string DefaultPath(string jobId) => System.IO.Path.Combine(DefaultDirectory(), jobId + ".db");

    public static JobJournal Open(string path, TimeProvider? time = null)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        connection.Execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA busy_timeout=10000;
            -- A lease rewrites more pages than a statement journal keeps in memory; spilled, it is a temp file per lease.
            PRAGMA temp_store=MEMORY;
            CREATE TABLE IF NOT EXISTS job(
              id INTEGER PRIMARY KEY CHECK (id = 1), job_id TEXT NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL,
              run INTEGER NOT NULL, state TEXT NOT NULL, listing_complete INTEGER NOT NULL, partitions INTEGER NOT NULL,
              run_started_at INTEGER NOT NULL, finished_at INTEGER, duplicate_pages INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS objects(
              key TEXT PRIMARY KEY, partition INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
              state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,
              lease_owner TEXT, lease_until INTEGER, bytes_copied INTEGER NOT NULL DEFAULT 0,
              verification TEXT, last_error TEXT, completed_at INTEGER, worker TEXT) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS objects_queue ON objects(state, partition, next_attempt_at);
            CREATE TABLE IF NOT EXISTS pages(hash TEXT PRIMARY KEY) WITHOUT ROWID;
            """);
        return new JobJournal(connection, time ?? TimeProvider.System) { Path = path };
    }

    long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Starts a run of the job: resumes an unfinished run, or starts afresh when the last run finished.</summary>
    /// <returns>True when an unfinished run was resumed.</returns>
    public bool BeginRun(string jobId, string source, string destination, int queuePartitions)
    {
        lock (gate)
        {
            var job = connection.QuerySingleOrDefault<(string JobId, string Source, string Destination, string State, long Partitions)?>(
                "SELECT job_id, source, destination, state, partitions FROM job");
            if (job is { } j)
            {
                if (j.Source != source || j.Destination != destination)
                    throw new InvalidOperationException(
                        $"The journal '{Path}' belongs to job {j.JobId} copying {j.Source} to {j.Destination}, not {source} to {destination}; " +
                        "give another --job or --journal.");
                partitions = (int)j.Partitions;
                if (j.State == "running")
                {
                    connection.Execute("UPDATE job SET run_started_at = @now WHERE id = 1", new { now = Now });
                    return true;
                }
                using var tx = connection.BeginTransaction();
                connection.Execute("DELETE FROM objects; DELETE FROM pages;", transaction: tx);
                connection.Execute("UPDATE job SET run = run + 1, state = 'running', listing_complete = 0, run_started_at = @now, finished_at = NULL, duplicate_pages = 0 WHERE id = 1",
                    new { now = Now }, tx);
                tx.Commit();
                return false;
            }
            partitions = Math.Max(1, queuePartitions);
            connection.Execute("""
                INSERT INTO job(id, job_id, source, destination, run, state, listing_complete, partitions, run_started_at)
                VALUES (1, @jobId, @source, @destination, 1, 'running', 0, @partitions, @now)
                """, new { jobId, source, destination, partitions, now = Now });
            return false;
        }
    }

    public bool ListingComplete
    {
        get { lock (gate) return connection.ExecuteScalar<long>("SELECT listing_complete FROM job") == 1; }
    }

    public void MarkListingComplete()
    {
        lock (gate) connection.Execute("UPDATE job SET listing_complete = 1");
    }

    public void FinishRun()
    {
        lock (gate) connection.Execute("UPDATE job SET state = 'finished', finished_at = @now", new { now = Now });
    }

    /// <summary>Records one list page: objects to copy go to the queue, skipped ones are recorded as such.
    /// A page whose hash was seen before is not enqueued again.</summary>
    /// <returns>False when the page is a duplicate.</returns>
    public bool EnqueuePage(string pageHash, IReadOnlyList<WorkItem> toCopy, IReadOnlyList<(WorkItem Item, ObjectState State, string? Reason)> skipped)
    {
        lock (gate)
        {
            using var tx = connection.BeginTransaction();
            if (connection.Execute("INSERT OR IGNORE INTO pages(hash) VALUES (@pageHash)", new { pageHash }, tx) == 0)
            {
                connection.Execute("UPDATE job SET duplicate_pages = duplicate_pages + 1", transaction: tx);
                tx.Commit();
                return false;
            }
            using var insert = connection.CreateCommand();
            insert.Transaction = tx;
            // A skipped object's reason goes where a failure's last error goes: the report prints both.
            insert.CommandText = "INSERT OR IGNORE INTO objects(key, partition, size, etag, state, last_error) VALUES ($key, $partition, $size, $etag, $state, $reason)";
            var pKey = insert.Parameters.Add("$key", SqliteType.Text);
            var pPartition = insert.Parameters.Add("$partition", SqliteType.Integer);
            var pSize = insert.Parameters.Add("$size", SqliteType.Integer);
            var pEtag = insert.Parameters.Add("$etag", SqliteType.Text);
            var pState = insert.Parameters.Add("$state", SqliteType.Integer);
            var pReason = insert.Parameters.Add("$reason", SqliteType.Text);
            void Add(WorkItem item, ObjectState state, string? reason)
            {
                pKey.Value = item.Key;
                pPartition.Value = PartitionOf(item.Key);
                pSize.Value = item.Size;
                pEtag.Value = item.ETag;
                pState.Value = (int)state;
                pReason.Value = (object?)reason ?? DBNull.Value;
                insert.ExecuteNonQuery();
            }
            foreach (var item in toCopy) Add(item, ObjectState.Pending, null);
            foreach (var (item, state, reason) in skipped) Add(item, state, reason);
            tx.Commit();
            return true;
        }
    }

    public bool IsPageKnown(string pageHash)
    {
        lock (gate) return connection.ExecuteScalar<long>("SELECT count(*) FROM pages WHERE hash = @pageHash", new { pageHash }) > 0;
    }

    int PartitionOf(string key)
    {
        // FNV-1a: stable across processes and runtimes, unlike string.GetHashCode.
        var h = 2166136261u;
        foreach (var c in key) { h ^= c; h *= 16777619u; }
        return (int)(h % (uint)partitions);
    }

    /// <summary>Leases up to <paramref name="max"/> pending objects whose retry time has come, starting at partition
    /// <paramref name="startPartition"/> and moving on to the next partitions until the batch is full.</summary>
    public IReadOnlyList<WorkItem> Lease(string owner, int max, TimeSpan lease, int startPartition)
    {
        lock (gate)
        {
            var now = Now;
            var taken = new List<WorkItem>(max);
            using var tx = connection.BeginTransaction();
            for (var i = 0; i < partitions && taken.Count < max; i++)
            {
                var partition = (startPartition + i) % partitions;
                taken.AddRange(connection.Query<(string Key, long Size, string ETag, long Attempts)>("""
                    UPDATE objects SET state = 1, lease_owner = @owner, lease_until = @until
                    WHERE key IN (SELECT key FROM objects WHERE state = 0 AND partition = @partition AND next_attempt_at <= @now LIMIT @n)
                    RETURNING key AS Key, size AS Size, etag AS ETag, attempts AS Attempts
                    """, new { owner, until = now + (long)lease.TotalMilliseconds, partition, now, n = max - taken.Count }, tx)
                    .Select(r => new WorkItem(r.Key, r.Size, r.ETag, (int)r.Attempts)));
            }
            tx.Commit();
            return taken;
        }
    }

    public void RenewLeases(string owner, TimeSpan lease)
    {
        lock (gate)
            connection.Execute("UPDATE objects SET lease_until = @until WHERE state = 1 AND lease_owner = @owner",
                new { owner, until = Now + (long)lease.TotalMilliseconds });
    }

    /// <summary>Returns to the queue every batch whose lease ran out (its worker died or hung), and, at once, those
    /// held by processes of this machine that no longer run (a run killed and started again).</summary>
    public int ReleaseAbandonedLeases()
    {
        lock (gate)
        {
            var released = connection.Execute("UPDATE objects SET state = 0, lease_owner = NULL WHERE state = 1 AND lease_until < @now", new { now = Now });
            var owners = connection.Query<string>("SELECT DISTINCT lease_owner FROM objects WHERE state = 1").ToList();
            foreach (var owner in owners.Where(IsDeadLocalOwner))
                released += connection.Execute("UPDATE objects SET state = 0, lease_owner = NULL WHERE state = 1 AND lease_owner = @owner", new { owner });
            return released;
        }
    }

    /// <summary>Gives back what this worker holds, when it stops early (Ctrl-C) and will not finish it.</summary>
    public void ReleaseLeases(string owner)
    {
        lock (gate) connection.Execute("UPDATE objects SET state = 0, lease_owner = NULL WHERE state = 1 AND lease_owner = @owner", new { owner });
    }

    public static string LocalOwner() => $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    static bool IsDeadLocalOwner(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid)) return false;
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Records finished attempts in one transaction: successes are final; a failure goes back to the queue
    /// after a backoff, or to the dead-letter list once the retry policy is exhausted.</summary>
    /// <returns>The outcomes that ended in the dead-letter list.</returns>
    public List<CopyOutcome> Record(IReadOnlyList<CopyOutcome> outcomes, RetryPolicy retry, string? worker = null)
    {
        var dead = new List<CopyOutcome>();
        lock (gate)
        {
            var now = Now;
            using var tx = connection.BeginTransaction();
            // Two statements prepared once per batch: a batch is thousands of outcomes on the hot path.
            using var done = connection.CreateCommand();
            done.Transaction = tx;
            done.CommandText = """
                INSERT INTO objects(key, partition, size, etag, state, bytes_copied, verification, completed_at, worker)
                VALUES ($key, $partition, $size, $etag, $state, $bytes, $verification, $now, $worker)
                ON CONFLICT(key) DO UPDATE SET state = $state, bytes_copied = $bytes, verification = $verification,
                  completed_at = $now, lease_owner = NULL, worker = $worker
                """;
            using var failed = connection.CreateCommand();
            failed.Transaction = tx;
            failed.CommandText = """
                INSERT INTO objects(key, partition, size, etag, state, attempts, next_attempt_at, last_error, worker)
                VALUES ($key, $partition, $size, $etag, $state, $attempts, $next, $error, $worker)
                ON CONFLICT(key) DO UPDATE SET state = $state, attempts = $attempts, next_attempt_at = $next,
                  last_error = $error, lease_owner = NULL, worker = $worker
                """;
            foreach (var command in new[] { done, failed })
            {
                foreach (var name in new[] { "$key", "$partition", "$size", "$etag", "$state", "$worker" })
                    command.Parameters.Add(new SqliteParameter { ParameterName = name });
                command.Parameters["$worker"].Value = (object?)worker ?? DBNull.Value;
            }
            done.Parameters.Add(new SqliteParameter("$bytes", 0L));
            done.Parameters.Add(new SqliteParameter { ParameterName = "$verification" });
            done.Parameters.Add(new SqliteParameter("$now", now));
            failed.Parameters.Add(new SqliteParameter("$attempts", 0));
            failed.Parameters.Add(new SqliteParameter("$next", 0L));
            failed.Parameters.Add(new SqliteParameter { ParameterName = "$error" });
            foreach (var o in outcomes)
            {
                var command = o.Failed ? failed : done;
                command.Parameters["$key"].Value = o.Item.Key;
                command.Parameters["$partition"].Value = PartitionOf(o.Item.Key);
                command.Parameters["$size"].Value = o.Item.Size;
                command.Parameters["$etag"].Value = o.Item.ETag;
                if (!o.Failed)
                {
                    command.Parameters["$state"].Value = (int)o.State;
                    command.Parameters["$bytes"].Value = o.Bytes;
                    command.Parameters["$verification"].Value = (object?)o.Verification ?? DBNull.Value;
                    command.ExecuteNonQuery();
                    continue;
                }
                var attempts = o.Item.Attempts + 1;
                var isDead = retry.IsExhausted(attempts);
                if (isDead) dead.Add(o);
                command.Parameters["$state"].Value = (int)(isDead ? ObjectState.Dead : ObjectState.Pending);
                command.Parameters["$attempts"].Value = attempts;
                command.Parameters["$next"].Value = now + (long)retry.DelayAfter(attempts).TotalMilliseconds;
                command.Parameters["$error"].Value = o.Error;
                command.ExecuteNonQuery();
            }
            tx.Commit();
        }
        return dead;
    }

    /// <summary>Objects still to do: pending (perhaps waiting for a retry) or leased.</summary>
    public long Unfinished
    {
        get { lock (gate) return connection.ExecuteScalar<long>("SELECT count(*) FROM objects WHERE state IN (0, 1)"); }
    }

    /// <summary>When the next pending object's retry time comes, or null when nothing is pending.</summary>
    public DateTimeOffset? NextRetryAt
    {
        get
        {
            lock (gate)
            {
                var next = connection.ExecuteScalar<long?>("SELECT min(next_attempt_at) FROM objects WHERE state = 0");
                return next is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
            }
        }
    }

    public IReadOnlyList<(string Key, long Size, ObjectState State, int Attempts, string? Error)> Entries(params ObjectState[] states)
    {
        lock (gate)
            return connection.Query<(string, long, long, long, string?)>(
                    "SELECT key, size, state, attempts, last_error FROM objects WHERE state IN @states ORDER BY key",
                    new { states = states.Select(s => (int)s).ToArray() })
                .Select(r => (r.Item1, r.Item2, (ObjectState)r.Item3, (int)r.Item4, r.Item5)).ToList();
    }

    public JobStatus Status()
    {
        lock (gate)
        {
            var job = connection.QuerySingleOrDefault<(string JobId, string Source, string Destination, long Run, string State, long Listed, long Started, long? Finished, long Dup)?>(
                "SELECT job_id, source, destination, run, state, listing_complete, run_started_at, finished_at, duplicate_pages FROM job")
                ?? throw new InvalidOperationException($"The journal '{Path}' holds no job yet.");
            var counts = connection.Query<(long State, long Count)>("SELECT state, count(*) FROM objects GROUP BY state")
                .ToDictionary(r => (ObjectState)r.State, r => r.Count);
            var bytes = connection.QuerySingle<(long? Total, long? Copied, long? Remaining)>(
                "SELECT sum(size), sum(bytes_copied), sum(CASE WHEN state IN (0, 1) THEN size ELSE 0 END) FROM objects");
            var failures = connection.Query<(string, long, string?)>(
                    "SELECT key, attempts, last_error FROM objects WHERE state = 6 ORDER BY key")
                .Select(r => (r.Item1, (int)r.Item2, r.Item3 ?? "")).ToList();
            return new JobStatus(job.JobId, job.Source, job.Destination, (int)job.Run, job.State, job.Listed == 1,
                DateTimeOffset.FromUnixTimeMilliseconds(job.Started),
                job.Finished is { } f ? DateTimeOffset.FromUnixTimeMilliseconds(f) : null,
                counts, bytes.Total ?? 0, bytes.Copied ?? 0, bytes.Remaining ?? 0, job.Dup, failures);
        }
    }

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }
}
