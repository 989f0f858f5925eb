using DataPlane.Iceberg.Maintenance;

namespace DataPlane.Maintenance;

/// <summary>One run of one job, with what a user may change for it by hand (the table's settings give the rest).</summary>
internal sealed record JobRequest(MaintenanceJob Job)
{
    public bool DryRun { get; init; }
    /// <summary>compact: target size of the files written.</summary>
    public long? TargetFileSizeBytes { get; init; }
    /// <summary>compact: small files a partition needs to be rewritten.</summary>
    public int? MinInputFiles { get; init; }
    /// <summary>compact: bin-pack or sort, instead of the table's strategy (a sort order alone means sort).</summary>
    public RewriteStrategy? Strategy { get; init; }
    /// <summary>compact: the order of a sort (<c>id DESC, name</c>, <c>zorder(a, b)</c>), instead of the table's.</summary>
    public string? SortOrder { get; init; }
    /// <summary>compact: Arrow bytes a sort holds in memory before it spills sorted runs to disk (the process's budget).</summary>
    public long? SortMemoryBytes { get; init; }
    /// <summary>expire-snapshots, remove-orphan-files: instead of the table's age.</summary>
    public DateTimeOffset? OlderThan { get; init; }
    /// <summary>expire-snapshots: snapshots each branch keeps.</summary>
    public int? RetainLast { get; init; }
}
