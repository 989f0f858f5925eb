using System.Text.Json;
using System.Text.Json.Serialization;

namespace DataPlane.Storage.Local;

/// <summary>
/// What S3 keeps beside an object's bytes (ETag, content type, user metadata), stored as a small JSON file under
/// <c>.dataplane/meta/</c>. The ETag is the MD5 computed while the bytes were written, so head never rereads
/// the object. <see cref="Size"/> and <see cref="LastWriteTicks"/> tie the sidecar to one version of the data
/// file: a sidecar that does not match (a write between its two renames, or a file copied in by hand) is
/// recomputed rather than trusted.
/// </summary>
internal sealed record Sidecar(long Size, long LastWriteTicks, string ETag, string? ContentType, Dictionary<string, string>? Metadata,
    string? StorageClass, int PartCount = 0, long PartSize = 0)
{
    /// <summary>The parts of a multipart upload (see <see cref="LocalMultipartUpload"/>); null for an object written in one piece.</summary>
    [JsonIgnore]
    public PartLayout? PartLayout => PartCount > 0 ? new PartLayout(PartCount, PartSize) : null;

    /// <summary>True when everything here can be recomputed from the data file alone: its size, time and MD5.</summary>
    [JsonIgnore]
    public bool Rebuildable => ContentType is null && Metadata is null && StorageClass is null && PartCount == 0;

    public bool Describes(FileInfo data) => data.Length == Size && data.LastWriteTimeUtc.Ticks == LastWriteTicks;

    public ObjectInfo ToObjectInfo(string key) => new(
        key, Size, ETag, new DateTimeOffset(LastWriteTicks, TimeSpan.Zero), ContentType,
        Metadata is null ? null : new Dictionary<string, string>(Metadata, StringComparer.OrdinalIgnoreCase),
        StorageClass ?? ObjectInfo.StandardStorageClass);

    public static Sidecar? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), SidecarJson.Default.Sidecar);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, SidecarJson.Default.Sidecar);
}

[JsonSerializable(typeof(Sidecar))]
internal sealed partial class SidecarJson : JsonSerializerContext;
