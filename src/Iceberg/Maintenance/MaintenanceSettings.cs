using System.Globalization;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// A table's maintenance settings, read from its properties so every engine and every DataPlane process sees the same
/// ones: Iceberg's own where it has them (<c>history.expire.*</c>, <c>write.target-file-size-bytes</c>,
/// <c>commit.manifest.target-size-bytes</c>), <c>dataplane.maintenance.*</c> for the rest. A property that cannot be
/// read is an error naming it and its value, never a silent default.
/// </summary>
public sealed record MaintenanceSettings
{
    public const string EnabledKey = "dataplane.maintenance.enabled";
    public const string CompactionEnabledKey = "dataplane.maintenance.compaction.enabled";
    public const string MinInputFilesKey = "dataplane.maintenance.compaction.min-input-files";
    public const string CompactionStrategyKey = "dataplane.maintenance.compaction.strategy";
    public const string CompactionSortOrderKey = "dataplane.maintenance.compaction.sort-order";
    public const string ExpiryEnabledKey = "dataplane.maintenance.expire-snapshots.enabled";
    public const string MaxSnapshotAgeMsKey = "history.expire.max-snapshot-age-ms";
    public const string MinSnapshotsToKeepKey = "history.expire.min-snapshots-to-keep";
    public const string MaxRefAgeMsKey = "history.expire.max-ref-age-ms";
    public const string MaxSnapshotsKey = "dataplane.maintenance.expire-snapshots.max-snapshots";
    public const string OrphansEnabledKey = "dataplane.maintenance.orphan-files.enabled";
    public const string OrphanFileAgeMsKey = "dataplane.maintenance.orphan-file-age-ms";
    public const string OrphanIntervalMsKey = "dataplane.maintenance.orphan-files.interval-ms";
    public const string ManifestsEnabledKey = "dataplane.maintenance.rewrite-manifests.enabled";
    public const string MinManifestsKey = "dataplane.maintenance.rewrite-manifests.min-manifests";

    public const long DefaultMaxSnapshotAgeMs = 5L * 24 * 60 * 60 * 1000;
    public const long DefaultOrphanFileAgeMs = 3L * 24 * 60 * 60 * 1000;
    public const int DefaultMaxSnapshots = 1000;

    /// <summary>The background scheduler of <c>dataplane serve</c> maintains the table (default on).</summary>
    public bool Enabled { get; init; } = true;

    public bool CompactionEnabled { get; init; } = true;

    /// <summary>Compaction writes files near this size (<c>write.target-file-size-bytes</c>, 128 MiB when not set).</summary>
    public long TargetFileSizeBytes { get; init; } = RewriteDataFiles.DefaultTargetFileSizeBytes;

    /// <summary>A partition's small files are compacted once there are this many (default 5).</summary>
    public int MinInputFiles { get; init; } = 5;

    /// <summary>How compaction lays out the rows it rewrites: bin-packed as read (default) or sorted.</summary>
    public RewriteStrategy CompactionStrategy { get; init; }

    /// <summary>The order a sort compaction writes (<c>id DESC NULLS LAST, name</c> or <c>zorder(a, b)</c>); null: the table's sort order.</summary>
    public string? CompactionSortOrder { get; init; }

    public bool ExpiryEnabled { get; init; } = true;

    /// <summary>Snapshots older than this are expired, unless a branch needs them for its minimum count (default 5 days).</summary>
    public long MaxSnapshotAgeMs { get; init; } = DefaultMaxSnapshotAgeMs;

    /// <summary>Each branch keeps at least this many of its newest snapshots, however old (default 1: the branch's head).</summary>
    public int MinSnapshotsToKeep { get; init; } = 1;

    /// <summary>
    /// Each branch keeps at most this many of its newest snapshots, however young (default 1000), unless its minimum count
    /// is higher. The age alone does not bound a table a pipeline commits to every second (5 days of it: 432,000
    /// snapshots, each commit rewriting a metadata file that lists them all), so the count does.
    /// </summary>
    public int MaxSnapshots { get; init; } = DefaultMaxSnapshots;

    /// <summary>Branches and tags (never <c>main</c>) whose snapshot is older than this are removed (default: never).</summary>
    public long MaxRefAgeMs { get; init; } = long.MaxValue;

    public bool OrphansEnabled { get; init; } = true;

    /// <summary>A file no metadata references is an orphan to remove only once it is older than this (default 3 days):
    /// younger, it may belong to a commit in flight.</summary>
    public long OrphanFileAgeMs { get; init; } = DefaultOrphanFileAgeMs;

    /// <summary>How often the scheduler looks for orphans (default once a day): a listing of the whole table is the cost.</summary>
    public long OrphanIntervalMs { get; init; } = 24L * 60 * 60 * 1000;

    public bool ManifestsEnabled { get; init; } = true;

    /// <summary>Manifests are merged once the current snapshot has this many data manifests (default 100).</summary>
    public int MinManifests { get; init; } = 100;

    /// <summary>The settings a table's properties give.</summary>
    /// <exception cref="ArgumentException">A property's value is not valid; the message names the property and the value.</exception>
    public static MaintenanceSettings From(TableMetadata metadata)
    {
        var p = metadata.Properties;
        var settings = new MaintenanceSettings
        {
            Enabled = Bool(p, EnabledKey),
            CompactionEnabled = Bool(p, CompactionEnabledKey),
            TargetFileSizeBytes = TableWriteProperties.Apply(p, new DataFileWriterOptions { TargetFileSizeBytes = RewriteDataFiles.DefaultTargetFileSizeBytes }).TargetFileSizeBytes,
            MinInputFiles = (int)Positive(p, MinInputFilesKey, 5, 1_000_000),
            CompactionStrategy = p.TryGetValue(CompactionStrategyKey, out var strategy) ? RewriteStrategies.Parse(strategy, $"Table property {CompactionStrategyKey}") : RewriteStrategy.BinPack,
            CompactionSortOrder = p.TryGetValue(CompactionSortOrderKey, out var order) && !string.IsNullOrWhiteSpace(order) ? order.Trim() : null,
            ExpiryEnabled = Bool(p, ExpiryEnabledKey),
            MaxSnapshotAgeMs = Positive(p, MaxSnapshotAgeMsKey, DefaultMaxSnapshotAgeMs),
            MinSnapshotsToKeep = (int)Positive(p, MinSnapshotsToKeepKey, 1, int.MaxValue),
            MaxRefAgeMs = Positive(p, MaxRefAgeMsKey, long.MaxValue),
            MaxSnapshots = (int)Positive(p, MaxSnapshotsKey, DefaultMaxSnapshots, int.MaxValue),
            OrphansEnabled = Bool(p, OrphansEnabledKey),
            OrphanFileAgeMs = Positive(p, OrphanFileAgeMsKey, DefaultOrphanFileAgeMs),
            OrphanIntervalMs = Positive(p, OrphanIntervalMsKey, 24L * 60 * 60 * 1000),
            ManifestsEnabled = Bool(p, ManifestsEnabledKey),
            MinManifests = (int)Positive(p, MinManifestsKey, 100, 1_000_000),
        };
        if (settings.CompactionSortOrder is not null || settings.CompactionStrategy == RewriteStrategy.Sort)
        {
            try
            {
                RewriteDataFiles.OrderOf(metadata, RewriteStrategy.Sort, settings.CompactionSortOrder);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(settings.CompactionSortOrder is null
                    ? $"Table property {CompactionStrategyKey} is 'sort', but the table has no sort order: set one, or {CompactionSortOrderKey}."
                    : $"Table property {CompactionSortOrderKey} is '{Show(settings.CompactionSortOrder)}': {e.Message}");
            }
        }
        return settings;
    }

    internal static long Positive(IReadOnlyDictionary<string, string> properties, string key, long defaultValue, long max = long.MaxValue)
    {
        if (!properties.TryGetValue(key, out var text))
            return defaultValue;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= max
            ? value
            : throw new ArgumentException($"Table property {key} is '{Show(text)}'; it must be a whole number from 1 to {max}.");
    }

    private static bool Bool(IReadOnlyDictionary<string, string> properties, string key) =>
        !properties.TryGetValue(key, out var text) || text.Trim().ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new ArgumentException($"Table property {key} is '{Show(text)}'; it must be true or false."),
        };

    private static string Show(string text) => text.Length <= 100 ? text : text[..100] + "...";
}
