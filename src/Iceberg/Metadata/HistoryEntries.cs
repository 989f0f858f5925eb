namespace DataPlane.Iceberg.Metadata;

/// <summary>An entry of <c>snapshot-log</c>: when the current snapshot became <see cref="SnapshotId"/>.</summary>
public sealed record SnapshotLogEntry(long TimestampMs, long SnapshotId);

/// <summary>An entry of <c>metadata-log</c>: a previous metadata file and when it was written.</summary>
public sealed record MetadataLogEntry(long TimestampMs, string MetadataFile);

/// <summary>A statistics or partition-statistics file entry, kept as its JSON so that a reader that does not use it
/// writes it back unchanged.</summary>
public sealed record StatisticsFile(long SnapshotId, string Json)
{
    /// <summary>The file's location (<c>statistics-path</c>, required by the spec); null when the entry has none.</summary>
    public string? Path
    {
        get
        {
            using var doc = System.Text.Json.JsonDocument.Parse(Json);
            return doc.RootElement.TryGetProperty("statistics-path", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.String ? p.GetString() : null;
        }
    }
}
