namespace DataPlane.Database;

/// <summary>Settings for the databases a host serves.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Holds one folder per database (primary file, log, snapshots, in-process replicas).</summary>
    public string DataDirectory { get; set; } = Path.Combine("data", "databases");

    /// <summary>fsync the commit log on every commit (a committed write survives power loss).</summary>
    public bool SyncCommits { get; set; } = true;

    /// <summary>
    /// Whether a database without tokens is open to every client, and databases may be created, deleted
    /// and given their first token without credentials. The server sets it from its listen address
    /// (on only for a loopback address) unless configured; when off, those need <see cref="AdminToken"/>.
    /// </summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>A bearer token that may manage every database and query any of them; null means none.</summary>
    public string? AdminToken { get; set; }

    /// <summary>In-process replicas for a database created without saying how many.</summary>
    public int DefaultReplicas { get; set; } = 1;

    /// <summary>How long a replica read waits for the session's bookmark before going to the primary.</summary>
    public TimeSpan ReplicaReadTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A replica not heard from for this long no longer holds back log truncation.</summary>
    public TimeSpan ReplicaLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock replica leases are read against: a test seam, so a lease can run out without waiting for it.</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>A snapshot (and a truncation) after this many committed transactions.</summary>
    public long SnapshotEveryEntries { get; set; } = 10_000;

    public long LogSegmentBytes { get; set; } = 4 << 20;
    public int LogBatchEntries { get; set; } = 1024;
    public long LogBatchBytes { get; set; } = 4 << 20;
    public int ReadConnections { get; set; } = 8;
    public int MaxResultRows { get; set; } = 100_000;

    /// <summary>Bytes of values one request may return (a blob of a gigabyte would otherwise be copied and encoded whole).</summary>
    public long MaxResultBytes { get; set; } = 64L << 20;

    internal Execution.ResultBudget ResultBudget() => new(MaxResultRows, MaxResultBytes);

    /// <summary>
    /// How long one request's statements may run (reads on any copy, a write batch on the primary) before SQLite is
    /// interrupted and the request answered 408; a stopped write is rolled back, so it releases the write lock.
    /// </summary>
    public TimeSpan StatementTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Databases a primary host may hold; creating one more is refused (409) naming the setting.</summary>
    public int MaxDatabases { get; set; } = 100;

    /// <summary>How long a replica's request for log entries waits for one to arrive.</summary>
    public TimeSpan LogPollWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Set on a replica host (`dataplane db replica`): the primary's base URL.</summary>
    public Uri? PrimaryUrl { get; set; }

    /// <summary>A replica host's name in the primary's replica list; defaults to the machine name.</summary>
    public string? ReplicaName { get; set; }

    /// <summary>A replica host replicates these databases only; empty means every database on the primary.</summary>
    public IReadOnlyList<string> ReplicateOnly { get; set; } = [];

    /// <summary>A replica host's token for the primary (read access to the log), if the databases have tokens.</summary>
    public string? PrimaryToken { get; set; }
}
