using DataPlane.Storage;

namespace DataPlane.Slurper;

public enum QueueKind { Sqlite, Kafka }

/// <summary>Everything a <c>dataplane slurp</c> run needs. Defaults suit many small objects on a LAN.</summary>
public sealed record SlurpOptions
{
    public required StoreEndpoint Source { get; init; }
    public required StoreEndpoint Destination { get; init; }
    /// <summary>Names the job's journal; the same id resumes an unfinished run. Default: derived from source and destination.</summary>
    public string? JobId { get; init; }
    /// <summary>The SQLite job journal; default <c>~/.dataplane/slurp/JOB.db</c>.</summary>
    public string? JournalPath { get; init; }
    /// <summary>Where the final report goes; default next to the journal, <c>JOB.report.tsv</c>.</summary>
    public string? ReportPath { get; init; }

    public IReadOnlyList<string> Include { get; init; } = [];
    public IReadOnlyList<string> Exclude { get; init; } = [];
    public bool DryRun { get; init; }
    /// <summary>Leave a destination object alone when it has the same size and ETag; otherwise overwrite.</summary>
    public bool SkipExisting { get; init; }
    /// <summary>Objects larger than this are skipped and listed in the report.</summary>
    public long? MaxObjectSize { get; init; }
    /// <summary>Storage classes that cannot be read without a restore; such objects are skipped and listed.</summary>
    public IReadOnlyList<string> ArchiveStorageClasses { get; init; } = ["GLACIER", "DEEP_ARCHIVE"];

    /// <summary>Objects copied at once.</summary>
    public int Concurrency { get; init; } = 64;
    /// <summary>List requests in flight at once.</summary>
    public int ListConcurrency { get; init; } = 8;
    /// <summary>Objects at least this large are copied as multipart uploads with parallel parts.</summary>
    public long MultipartThreshold { get; init; } = 32L * 1024 * 1024;
    public long PartSize { get; init; } = 16L * 1024 * 1024;
    /// <summary>Parts of one object in flight at once (each holds one part-sized buffer).</summary>
    public int PartConcurrency { get; init; } = 4;
    public RetryPolicy Retry { get; init; } = new();
    /// <summary>How long a worker owns a leased batch without renewing it; a worker that dies gives its batch back after this.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Partitions of the embedded queue; workers take batches partition by partition.</summary>
    public int QueuePartitions { get; init; } = 16;

    public QueueKind Queue { get; init; } = QueueKind.Sqlite;
    public KafkaSettings? Kafka { get; init; }

    /// <summary>Progress output; a terminal gets a live bar, anything else periodic log lines.</summary>
    public TextWriter? Output { get; init; }
    public bool? Interactive { get; init; }
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(10);
}
