using System.Text.Json;
using DataPlane.Iceberg.Metadata;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// One metadata file as the catalog holds it in memory: its bytes and, computed on first use and kept with it, the
/// parsed table metadata (the base of the next commit) and the serialized <c>LoadTableResult</c> (the body of most
/// load-table answers). A file is never rewritten, so none of these can go stale.
/// </summary>
internal sealed class MetadataFile(string location, byte[] bytes, TableMetadata? table = null)
{
    private TableMetadata? _table = table;
    private string? _tableLocation = table?.Location;

    public string Location { get; } = location;
    public byte[] Bytes { get; } = bytes;

    /// <summary>What the cache charges for the entry: the bytes, the parsed objects and the load answer are each about the file's size.</summary>
    public long Weight => 3L * Bytes.Length + 256;

    /// <summary>Cache clock value of the last hit; the least recent entries go first when the cache is full.</summary>
    public long LastUse;

    /// <summary>The <c>LoadTableResult</c> for a client that asked for all snapshots and no vended credentials.</summary>
    public byte[]? LoadResult { get; set; }

    /// <summary>The file as table metadata; a race of two first callers parses twice and keeps either, which are equal.</summary>
    public TableMetadata Table => _table ??= TableCommitter.ReadMetadata(Bytes, Location);

    /// <summary>The table's <c>location</c>, read without building the whole metadata when it has not been parsed.</summary>
    public string TableLocation => _tableLocation ??= _table?.Location ?? ReadLocation(Bytes);

    /// <summary>The table's <c>location</c> from metadata bytes, without building a document.</summary>
    private static string ReadLocation(byte[] metadata)
    {
        var reader = new Utf8JsonReader(metadata);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isLocation = reader.ValueTextEquals("location");
            reader.Read();
            if (isLocation) return reader.GetString()!;
            reader.Skip();
        }
        throw new FormatException("Table metadata has no 'location'.");
    }
}
