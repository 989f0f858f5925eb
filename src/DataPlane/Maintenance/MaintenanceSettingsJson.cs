using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Maintenance;

namespace DataPlane.Maintenance;

/// <summary>
/// A table's maintenance settings as the API shows and takes them, each field one table property:
/// <code>
/// {"enabled": true,
///  "compaction": {"enabled": true, "target_file_size_bytes": 134217728, "min_input_files": 5, "strategy": "binpack", "sort_order": null},
///  "expire_snapshots": {"enabled": true, "max_snapshot_age_ms": 432000000, "min_snapshots_to_keep": 1, "max_snapshots": 1000},
///  "remove_orphan_files": {"enabled": true, "older_than_ms": 259200000, "interval_ms": 86400000},
///  "rewrite_manifests": {"enabled": true, "min_manifests": 100}}
/// </code>
/// A change names only the fields it sets; an unknown field, a wrong type or a value out of range is refused naming it.
/// <c>sort_order</c> is text (<c>"id DESC NULLS LAST, name"</c>, <c>"zorder(a, b)"</c>; <c>""</c>: the table's sort order).
/// </summary>
internal static class MaintenanceSettingsJson
{
    private const long MiB = 1024 * 1024;
    private const int MaxText = 1000;

    /// <summary>The fields: JSON path, table property, what the value may be (bool: 0 to 0, text: -1 to -1, or a whole number in a range).</summary>
    private static readonly (string Section, string Field, string Property, long Min, long Max)[] Fields =
    [
        ("", "enabled", MaintenanceSettings.EnabledKey, 0, 0),
        ("compaction", "enabled", MaintenanceSettings.CompactionEnabledKey, 0, 0),
        ("compaction", "target_file_size_bytes", TableWriteProperties.TargetFileSizeBytes, 64 * MiB, 512 * MiB),
        ("compaction", "min_input_files", MaintenanceSettings.MinInputFilesKey, 2, 100_000),
        ("compaction", "strategy", MaintenanceSettings.CompactionStrategyKey, -1, -1),
        ("compaction", "sort_order", MaintenanceSettings.CompactionSortOrderKey, -1, -1),
        ("expire_snapshots", "enabled", MaintenanceSettings.ExpiryEnabledKey, 0, 0),
        ("expire_snapshots", "max_snapshot_age_ms", MaintenanceSettings.MaxSnapshotAgeMsKey, 1, long.MaxValue),
        ("expire_snapshots", "min_snapshots_to_keep", MaintenanceSettings.MinSnapshotsToKeepKey, 1, 1_000_000),
        ("expire_snapshots", "max_snapshots", MaintenanceSettings.MaxSnapshotsKey, 1, 1_000_000),
        ("remove_orphan_files", "enabled", MaintenanceSettings.OrphansEnabledKey, 0, 0),
        // At least a minute: a writer that records nothing (Spark) must have time to commit what it wrote.
        ("remove_orphan_files", "older_than_ms", MaintenanceSettings.OrphanFileAgeMsKey, 60_000, long.MaxValue),
        ("remove_orphan_files", "interval_ms", MaintenanceSettings.OrphanIntervalMsKey, 60_000, long.MaxValue),
        ("rewrite_manifests", "enabled", MaintenanceSettings.ManifestsEnabledKey, 0, 0),
        ("rewrite_manifests", "min_manifests", MaintenanceSettings.MinManifestsKey, 2, 1_000_000),
    ];

    public static void Write(Utf8JsonWriter w, MaintenanceSettings s)
    {
        w.WriteStartObject();
        w.WriteBoolean("enabled", s.Enabled);
        w.WriteStartObject("compaction");
        w.WriteBoolean("enabled", s.CompactionEnabled);
        w.WriteNumber("target_file_size_bytes", s.TargetFileSizeBytes);
        w.WriteNumber("min_input_files", s.MinInputFiles);
        w.WriteString("strategy", s.CompactionStrategy.Name());
        if (s.CompactionSortOrder is null) w.WriteNull("sort_order");
        else w.WriteString("sort_order", s.CompactionSortOrder);
        w.WriteEndObject();
        w.WriteStartObject("expire_snapshots");
        w.WriteBoolean("enabled", s.ExpiryEnabled);
        w.WriteNumber("max_snapshot_age_ms", s.MaxSnapshotAgeMs);
        w.WriteNumber("min_snapshots_to_keep", s.MinSnapshotsToKeep);
        w.WriteNumber("max_snapshots", s.MaxSnapshots);
        w.WriteEndObject();
        w.WriteStartObject("remove_orphan_files");
        w.WriteBoolean("enabled", s.OrphansEnabled);
        w.WriteNumber("older_than_ms", s.OrphanFileAgeMs);
        w.WriteNumber("interval_ms", s.OrphanIntervalMs);
        w.WriteEndObject();
        w.WriteStartObject("rewrite_manifests");
        w.WriteBoolean("enabled", s.ManifestsEnabled);
        w.WriteNumber("min_manifests", s.MinManifests);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The table properties a change sets.</summary>
    /// <exception cref="ArgumentException">The change is not valid; the message names the field (<c>$.compaction.min_input_files</c>) and the value.</exception>
    public static Dictionary<string, string> Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"The body must be a JSON object of settings, not {body.ValueKind}.");
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in body.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Object && Fields.Any(f => f.Section == p.Name))
            {
                foreach (var q in p.Value.EnumerateObject())
                    Set(properties, p.Name, q.Name, q.Value);
            }
            else
                Set(properties, "", p.Name, p.Value);
        }
        return properties;
    }

    private static void Set(Dictionary<string, string> properties, string section, string field, JsonElement value)
    {
        var path = section.Length == 0 ? $"$.{field}" : $"$.{section}.{field}";
        var match = Fields.Where(f => f.Section == section && f.Field == field).ToList();
        if (match.Count == 0)
            throw new ArgumentException($"{path} is not a maintenance setting; valid: {string.Join(", ", Fields.Select(f => f.Section.Length == 0 ? f.Field : f.Section + "." + f.Field))}.");
        var (_, _, property, min, max) = match[0];
        if (min == -1)
        {
            if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length > MaxText)
                throw new ArgumentException($"{path} must be text of at most {MaxText} characters, not {Show(value)}.");
            var text = value.GetString()!.Trim();
            // The strategy by its name; a sort order is read against the table's schema once the table is known.
            properties[property] = property == MaintenanceSettings.CompactionStrategyKey ? RewriteStrategies.Parse(text, path).Name() : text;
            return;
        }
        if (min == 0 && max == 0)
        {
            properties[property] = value.ValueKind switch
            {
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => throw new ArgumentException($"{path} must be true or false, not {Show(value)}."),
            };
            return;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n) || n < min || n > max)
            throw new ArgumentException($"{path} must be a whole number {(max == long.MaxValue ? $"of at least {min}" : $"from {min} to {max}")}, not {Show(value)}.");
        properties[property] = n.ToString(CultureInfo.InvariantCulture);
    }

    private static string Show(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length <= 100 ? text : text[..100] + "...";
    }
}
