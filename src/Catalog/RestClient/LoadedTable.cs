using System.Text.Json;

namespace DataPlane.Catalog.RestClient;

/// <summary>A table as a catalog returns it: the current metadata file, the metadata itself, and the storage config to read its files.</summary>
public sealed record LoadedTable(string? MetadataLocation, JsonElement Metadata, IReadOnlyDictionary<string, string> Config)
{
    /// <summary>The snapshot main points at; null for an empty table.</summary>
    public long? CurrentSnapshotId =>
        Metadata.TryGetProperty("current-snapshot-id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt64() != -1 ? id.GetInt64() : null;

    public long LastSequenceNumber =>
        Metadata.TryGetProperty("last-sequence-number", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt64() : 0;

    public string Location => Metadata.GetProperty("location").GetString()!;
}
