namespace DataPlane.Maintenance;

/// <summary>The server's side of table maintenance (section <c>Maintenance</c>, environment <c>DATAPLANE_MAINTENANCE__*</c>);
/// what to do to each table is in its properties.</summary>
internal sealed class MaintenanceOptions
{
    /// <summary>The background scheduler runs (default on); off, runs are made by hand only (API, CLI).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How often every table's thresholds are looked at.</summary>
    public double CheckSeconds { get; set; } = 60;
    /// <summary>Jobs running at once, across tables (a table runs one job at a time).</summary>
    public int MaxConcurrentJobs { get; set; } = 1;
    /// <summary>Bytes per second the jobs together may read and write, so ingestion keeps the store's bandwidth (0: no limit).</summary>
    public long MaxBytesPerSecond { get; set; } = 64L * 1024 * 1024;
    /// <summary>Finished runs kept per table in the history.</summary>
    public int HistoryPerTable { get; set; } = 50;
    /// <summary>Arrow bytes a sort compaction holds in memory before it spills sorted runs to disk.</summary>
    public long SortMemoryBytes { get; set; } = Iceberg.Maintenance.RewriteDataFiles.DefaultSortMemoryBytes;

    public void Validate()
    {
        if (!(CheckSeconds is > 0 and <= 86_400))
            throw new ArgumentException($"Maintenance:CheckSeconds {CheckSeconds} is out of range; use a number of seconds above 0, at most 86400.");
        if (MaxConcurrentJobs is < 1 or > 64)
            throw new ArgumentException($"Maintenance:MaxConcurrentJobs {MaxConcurrentJobs} is out of range; use 1 to 64.");
        if (MaxBytesPerSecond < 0)
            throw new ArgumentException($"Maintenance:MaxBytesPerSecond {MaxBytesPerSecond} is out of range; use 0 (no limit) or more.");
        if (SortMemoryBytes is < 1024 * 1024 or > 1L << 40)
            throw new ArgumentException($"Maintenance:SortMemoryBytes {SortMemoryBytes} is out of range; use 1048576 (1 MiB) to 1099511627776 (1 TiB).");
        if (HistoryPerTable is < 1 or > 10_000)
            throw new ArgumentException($"Maintenance:HistoryPerTable {HistoryPerTable} is out of range; use 1 to 10000.");
    }
}
