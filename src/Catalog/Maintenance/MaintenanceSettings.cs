using System.Globalization;
using DataPlane.Catalog.Metadata;

namespace DataPlane.Catalog.Maintenance;

/// <summary>
/// A table's maintenance settings, read from its properties so every engine and every DataPlane process sees the same
/// ones: Iceberg's own <c>history.expire.*</c> for snapshot expiry, <c>dataplane.maintenance.*</c> for the rest. A
/// property that cannot be read is an error naming it and its value, never a silent default.
/// </summary>
public sealed record MaintenanceSettings
{
    public const string MaxSnapshotAgeMsKey = "history.expire.max-snapshot-age-ms";
    public const string MinSnapshotsToKeepKey = "history.expire.min-snapshots-to-keep";
    public const string MaxRefAgeMsKey = "history.expire.max-ref-age-ms";

    public const string OrphanFileAgeMsKey = "dataplane.maintenance.orphan-file-age-ms";

    public const long DefaultMaxSnapshotAgeMs = 5L * 24 * 60 * 60 * 1000;
    public const long DefaultOrphanFileAgeMs = 3L * 24 * 60 * 60 * 1000;

    /// <summary>Snapshots older than this are expired, unless a branch needs them for its minimum count (default 5 days).</summary>
    public long MaxSnapshotAgeMs { get; init; } = DefaultMaxSnapshotAgeMs;

    /// <summary>Each branch keeps at least this many of its newest snapshots, however old (default 1: the branch's head).</summary>
    public int MinSnapshotsToKeep { get; init; } = 1;

    /// <summary>Branches and tags (never <c>main</c>) whose snapshot is older than this are removed (default: never).</summary>
    public long MaxRefAgeMs { get; init; } = long.MaxValue;

    /// <summary>A file no metadata references is an orphan to remove only once it is older than this (default 3 days):
    /// younger, it may belong to a commit in flight.</summary>
    public long OrphanFileAgeMs { get; init; } = DefaultOrphanFileAgeMs;

    /// <summary>The settings a table's properties give.</summary>
    public static MaintenanceSettings From(TableMetadata metadata)
    {
        var p = metadata.Properties;
        return new MaintenanceSettings
        {
            MaxSnapshotAgeMs = Positive(p, MaxSnapshotAgeMsKey, DefaultMaxSnapshotAgeMs),
            MinSnapshotsToKeep = (int)Positive(p, MinSnapshotsToKeepKey, 1, int.MaxValue),
            MaxRefAgeMs = Positive(p, MaxRefAgeMsKey, long.MaxValue),
            OrphanFileAgeMs = Positive(p, OrphanFileAgeMsKey, DefaultOrphanFileAgeMs),
        };
    }

    internal static long Positive(IReadOnlyDictionary<string, string> properties, string key, long defaultValue, long max = long.MaxValue)
    {
        if (!properties.TryGetValue(key, out var text))
            return defaultValue;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= max
            ? value
            : throw new ArgumentException($"Table property {key} is '{text}'; it must be a whole number from 1 to {max}.");
    }
}
