namespace DataPlane.Pipelines;

/// <summary>Settings of streams, sinks and pipelines (bound from the <c>Pipelines</c> configuration section).</summary>
public sealed class PipelinesOptions
{
    /// <summary>Where stream definitions, ingest logs, sinks and pipelines are kept (<c>&lt;data&gt;/pipelines</c>).</summary>
    public string Directory { get; set; } = Path.Combine("data", "pipelines");
    /// <summary>Largest request body accepted, after gzip decompression.</summary>
    public int MaxRequestBytes { get; set; } = 1024 * 1024;
    /// <summary>Largest single record accepted.</summary>
    public int MaxRecordBytes { get; set; } = 256 * 1024;
    /// <summary>Per-stream bound on the ingest log; past it ingestion answers 429 until pipelines catch up.</summary>
    public long MaxLogBytes { get; set; } = 1024L * 1024 * 1024;
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>
    /// Per-stream bound on the recently acknowledged batches kept in memory for pipelines that keep up (they skip
    /// re-reading the log files); 0 turns it off. The log on disk stays the source of truth.
    /// </summary>
    public long LogTailBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>What 429 answers put in Retry-After.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Most streams the server holds (stored ones that failed to load count); creating another answers 409.</summary>
    public int MaxStreams { get; set; } = 1000;
    /// <summary>Most sinks the server holds; creating another answers 409.</summary>
    public int MaxSinks { get; set; } = 1000;
    /// <summary>Most pipelines the server holds; creating another answers 409.</summary>
    public int MaxPipelines { get; set; } = 1000;
    /// <summary>
    /// Most bytes of operator state (open windows, their keys and aggregates) one statement of a pipeline may hold, as
    /// measured by the checkpoint written with each commit: a commit whose state is larger is refused, and the pipeline
    /// fails (and retries from its last commit) with a message naming the statement, until the budget is raised or the
    /// statement holds less. Memory may exceed it by what one commit interval adds before the check.
    /// </summary>
    public long MaxStateBytes { get; set; } = 512L * 1024 * 1024;
    /// <summary>
    /// Bytes of keyed window state (tumble and hop groups) one statement of a pipeline holds in memory; past it the
    /// groups spill to sorted runs under <c>&lt;Directory&gt;/state-spill</c>, merged when their window closes.
    /// </summary>
    public long StateMemoryBytes { get; set; } = 256L * 1024 * 1024;
    /// <summary>Shards of a statement's keyed window state where the pipeline sets no <c>"parallelism"</c>; 0: one per core.</summary>
    public int StateShards { get; set; }
    /// <summary>
    /// Largest table a lookup join may load (an Iceberg table's data and delete files, a database table's values): a
    /// pipeline that joins a larger one is refused when created (400 naming the table and its size), and fails if a
    /// reload finds it has grown past it.
    /// </summary>
    public long MaxLookupTableBytes { get; set; } = 256L * 1024 * 1024;
    /// <summary>Seconds between a pipeline's checks of a lookup table for a new snapshot (or database commit); 0 checks before every batch.</summary>
    public double LookupRefreshSeconds { get; set; } = 30;
    /// <summary>
    /// The longest a batch waits for a lookup table's reload: past it the batch is joined with the rows in hand and the
    /// reload finishes in the background for a later batch, so a slow catalog or replica never stalls the stream longer.
    /// </summary>
    public double LookupWaitSeconds { get; set; } = 5;
    /// <summary>
    /// Seconds without an append after which a stream closes its log file and lets go of its in-memory tail and
    /// parsers, so idle streams cost no file descriptor and little memory; the next append reopens the file.
    /// </summary>
    public int StreamIdleSeconds { get; set; } = 60;

    /// <summary>What this process does with streams, sinks and pipelines (<c>dataplane serve --role</c>); set by the host.</summary>
    public ProcessRole Role { get; set; } = ProcessRole.All;

    /// <summary>Whether this process runs pipelines and Kafka sources (the <c>all</c> and <c>worker</c> roles).</summary>
    internal bool RunsPipelines => Role is ProcessRole.All or ProcessRole.Worker;

    /// <summary>Whether this process takes records at <c>POST /streams/{name}</c> (the <c>all</c> and <c>ingest</c> roles).</summary>
    internal bool TakesRecords => Role is ProcessRole.All or ProcessRole.Ingest;

    /// <summary>Whether this process mirrors the definitions from the catalog process and forwards management writes there (<c>ingest</c>, <c>worker</c>).</summary>
    internal bool MirrorsDefinitions => Role is ProcessRole.Ingest or ProcessRole.Worker;

    /// <summary>The catalog process's base address (<c>--catalog</c>) for a process that mirrors the definitions; set by the host.</summary>
    public Uri? CatalogProcess { get; set; }

    /// <summary>The bearer token sent to <see cref="CatalogProcess"/>; set by the host (<c>Catalog:Token</c>).</summary>
    public string? CatalogToken { get; set; }

    /// <summary>Seconds between an ingest or worker process's reads of the catalog process's definitions.</summary>
    public double DefinitionsPollSeconds { get; set; } = 2;

    /// <summary>The 409 message for a create past one of the limits above.</summary>
    internal static string LimitReached(string kind, int count, int limit, string setting) =>
        $"This server holds {count} {kind}s, its limit of {limit} (setting Pipelines:{setting}, environment DATAPLANE_PIPELINES__{setting.ToUpperInvariant()}); " +
        $"delete {kind}s that are no longer used, or raise the limit.";

    /// <summary>
    /// Whether requests without a token may ingest and manage. <c>dataplane serve</c> defaults it to true only when it
    /// listens on a loopback address; false with no <see cref="Tokens"/> leaves the API closed (401) to everyone.
    /// </summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>Bearer tokens: each may ingest into every stream, and manage streams, sinks and pipelines unless
    /// <see cref="PipelinesToken.IngestOnly"/> or <see cref="PipelinesToken.ReadOnly"/>.</summary>
    public List<PipelinesToken> Tokens { get; set; } = [];
}

/// <summary>A bearer token for the streams, sinks and pipelines API.</summary>
public sealed class PipelinesToken
{
    public string? Token { get; set; }
    /// <summary>Only <c>POST /streams/{name}</c> (what a producer needs); the management API answers 403.</summary>
    public bool IngestOnly { get; set; }
    /// <summary>Only reads of the management API (GET: what a dashboard or the console's viewers need); anything
    /// that changes a stream, sink or pipeline, and ingestion, answer 403.</summary>
    public bool ReadOnly { get; set; }
}
