using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// Table metadata JSON (spec Appendix C): reads v1 (single <c>schema</c>/<c>partition-spec</c>, no sequence numbers)
/// and v2; writes v2 with every required key. <c>current-snapshot-id</c> -1 (or null) reads as no snapshot and is
/// written as -1, as the reference implementation does. Statistics entries are kept as read.
/// </summary>
public static class TableMetadataJson
{
    private static readonly JsonWriterOptions CompactOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonEncodedText TimestampMsKey = JsonEncodedText.Encode("timestamp-ms");
    private static readonly JsonEncodedText SnapshotIdKey = JsonEncodedText.Encode("snapshot-id");
    private static readonly JsonEncodedText MetadataFileKey = JsonEncodedText.Encode("metadata-file");

    /// <summary>
    /// Compact JSON of each snapshot, kept for as long as the snapshot lives. A commit builds its metadata from the
    /// previous one's snapshot instances (snapshots are immutable records; a changed one is a new instance), so
    /// writing the next metadata file costs a copy of each earlier snapshot's bytes, not its serialization: the
    /// snapshots array is what grows with every commit.
    /// </summary>
    private static readonly ConditionalWeakTable<Snapshot, byte[]> SnapshotJson = new();

    /// <summary>A buffer per thread for whole documents, kept between writes unless it grew past this.</summary>
    private const int MaxRetainedBuffer = 4 << 20;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static string Write(TableMetadata m, bool indented) =>
        indented ? Json.Write(w => WriteDocument(w, m, reuseSnapshots: false), indented: true) : Encoding.UTF8.GetString(WriteUtf8(m));

    /// <summary>The compact metadata file, as UTF-8.</summary>
    public static byte[] WriteUtf8(TableMetadata m)
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(16 * 1024);
        t_buffer = null; // not shared with a nested write on this thread
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer, CompactOptions))
            WriteDocument(w, m, reuseSnapshots: true);
        // Not zeroed first: the copy fills it, and a file of a table with history is a large-object-heap array per commit.
        var bytes = GC.AllocateUninitializedArray<byte>(buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(bytes);
        if (buffer.Capacity <= MaxRetainedBuffer) t_buffer = buffer;
        return bytes;
    }

    private static void WriteDocument(Utf8JsonWriter w, TableMetadata m, bool reuseSnapshots)
    {
        w.WriteStartObject();
        w.WriteNumber("format-version", m.FormatVersion);
        w.WriteString("table-uuid", m.TableUuid);
        w.WriteString("location", m.Location);
        w.WriteNumber("last-sequence-number", m.LastSequenceNumber);
        w.WriteNumber("last-updated-ms", m.LastUpdatedMs);
        w.WriteNumber("last-column-id", m.LastColumnId);
        w.WriteNumber("current-schema-id", m.CurrentSchemaId);
        w.WriteStartArray("schemas");
        foreach (var s in m.Schemas) SchemaJson.Write(w, s);
        w.WriteEndArray();
        w.WriteNumber("default-spec-id", m.DefaultSpecId);
        w.WriteStartArray("partition-specs");
        foreach (var s in m.PartitionSpecs) PartitionSpecJson.Write(w, s);
        w.WriteEndArray();
        w.WriteNumber("last-partition-id", m.LastPartitionId);
        w.WriteNumber("default-sort-order-id", m.DefaultSortOrderId);
        w.WriteStartArray("sort-orders");
        foreach (var s in m.SortOrders) SortOrderJson.Write(w, s);
        w.WriteEndArray();
        w.WriteStartObject("properties");
        foreach (var (k, v) in m.Properties) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteNumber("current-snapshot-id", m.CurrentSnapshotId ?? -1);
        w.WriteStartObject("refs");
        foreach (var (name, r) in m.Refs)
        {
            w.WriteStartObject(name);
            WriteRefFields(w, r);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartArray("snapshots");
        foreach (var s in m.Snapshots)
        {
            if (reuseSnapshots) w.WriteRawValue(SnapshotJson.GetValue(s, SerializeSnapshot), skipInputValidation: true);
            else WriteSnapshot(w, s);
        }
        w.WriteEndArray();
        w.WriteStartArray("statistics");
        foreach (var s in m.Statistics) w.WriteRawValue(s.Json);
        w.WriteEndArray();
        w.WriteStartArray("partition-statistics");
        foreach (var s in m.PartitionStatistics) w.WriteRawValue(s.Json);
        w.WriteEndArray();
        w.WriteStartArray("snapshot-log");
        foreach (var e in m.SnapshotLog)
        {
            w.WriteStartObject();
            w.WriteNumber(TimestampMsKey, e.TimestampMs);
            w.WriteNumber(SnapshotIdKey, e.SnapshotId);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("metadata-log");
        foreach (var e in m.MetadataLog)
        {
            w.WriteStartObject();
            w.WriteNumber(TimestampMsKey, e.TimestampMs);
            w.WriteString(MetadataFileKey, e.MetadataFile);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static byte[] SerializeSnapshot(Snapshot s)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, CompactOptions))
            WriteSnapshot(w, s);
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteSnapshot(Utf8JsonWriter w, Snapshot s)
    {
        w.WriteStartObject();
        w.WriteNumber("sequence-number", s.SequenceNumber);
        w.WriteNumber("snapshot-id", s.SnapshotId);
        if (s.ParentSnapshotId is { } parent) w.WriteNumber("parent-snapshot-id", parent);
        w.WriteNumber("timestamp-ms", s.TimestampMs);
        w.WriteStartObject("summary");
        w.WriteString("operation", s.Operation);
        foreach (var (k, v) in s.Summary)
            if (k != "operation") w.WriteString(k, v);
        w.WriteEndObject();
        if (s.ManifestList is { } list)
        {
            w.WriteString("manifest-list", list);
        }
        else
        {
            w.WriteStartArray("manifests");
            foreach (var m in s.Manifests ?? []) w.WriteStringValue(m);
            w.WriteEndArray();
        }
        if (s.SchemaId is { } schemaId) w.WriteNumber("schema-id", schemaId);
        w.WriteEndObject();
    }

    public static void WriteRefFields(Utf8JsonWriter w, SnapshotRef r)
    {
        w.WriteNumber("snapshot-id", r.SnapshotId);
        w.WriteString("type", r.IsBranch ? "branch" : "tag");
        if (r.MinSnapshotsToKeep is { } min) w.WriteNumber("min-snapshots-to-keep", min);
        if (r.MaxSnapshotAgeMs is { } age) w.WriteNumber("max-snapshot-age-ms", age);
        if (r.MaxRefAgeMs is { } refAge) w.WriteNumber("max-ref-age-ms", refAge);
    }

    public static TableMetadata Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement);
    }

    /// <summary>Reads a metadata file's UTF-8 bytes as they are, without decoding them to a string first.</summary>
    public static TableMetadata Read(ReadOnlyMemory<byte> utf8)
    {
        using var doc = JsonDocument.Parse(utf8);
        return Read(doc.RootElement);
    }

    private static TableMetadata Read(JsonElement e)
    {
        var formatVersion = Json.RequiredInt(e, "format-version");
        if (formatVersion is < 1 or > 2)
            throw new FormatException($"Table metadata format-version {formatVersion} is not supported; supported: 1, 2.");

        List<Schema> schemas;
        int currentSchemaId;
        if (e.TryGetProperty("schemas", out var schemasJson) && schemasJson.ValueKind == JsonValueKind.Array)
        {
            schemas = schemasJson.EnumerateArray().Select(s => SchemaJson.Read(s)).ToList();
            currentSchemaId = Json.OptionalInt(e, "current-schema-id") ?? schemas[0].SchemaId;
        }
        else
        {
            var schema = SchemaJson.Read(Json.Required(e, "schema"));
            schemas = [schema];
            currentSchemaId = schema.SchemaId;
        }

        List<PartitionSpec> specs;
        int defaultSpecId;
        if (e.TryGetProperty("partition-specs", out var specsJson) && specsJson.ValueKind == JsonValueKind.Array)
        {
            specs = specsJson.EnumerateArray().Select(PartitionSpecJson.Read).ToList();
            defaultSpecId = Json.OptionalInt(e, "default-spec-id") ?? specs[0].SpecId;
        }
        else
        {
            specs = [new PartitionSpec(0, PartitionSpecJson.ReadFields(Json.Required(e, "partition-spec")))];
            defaultSpecId = 0;
        }

        List<SortOrder> orders = e.TryGetProperty("sort-orders", out var ordersJson) && ordersJson.ValueKind == JsonValueKind.Array
            ? ordersJson.EnumerateArray().Select(SortOrderJson.Read).ToList()
            : [SortOrder.Unsorted];

        var snapshots = e.TryGetProperty("snapshots", out var snapshotsJson) && snapshotsJson.ValueKind == JsonValueKind.Array
            ? snapshotsJson.EnumerateArray().Select(ReadSnapshot).ToList()
            : [];
        var currentSnapshotId = Json.OptionalLong(e, "current-snapshot-id");
        if (currentSnapshotId == -1) currentSnapshotId = null;

        var refs = new Dictionary<string, SnapshotRef>(StringComparer.Ordinal);
        if (e.TryGetProperty("refs", out var refsJson) && refsJson.ValueKind == JsonValueKind.Object)
            foreach (var r in refsJson.EnumerateObject()) refs[r.Name] = ReadRef(r.Value);
        // Metadata written before refs existed: main is the current snapshot.
        if (currentSnapshotId is { } cur && !refs.ContainsKey(SnapshotRef.MainBranch)) refs[SnapshotRef.MainBranch] = SnapshotRef.Branch(cur);

        return new TableMetadata
        {
            FormatVersion = formatVersion,
            TableUuid = Json.OptionalString(e, "table-uuid") ?? Guid.NewGuid().ToString(),
            Location = Json.RequiredString(e, "location"),
            LastSequenceNumber = formatVersion >= 2 ? Json.RequiredLong(e, "last-sequence-number") : 0,
            LastUpdatedMs = Json.RequiredLong(e, "last-updated-ms"),
            LastColumnId = Json.RequiredInt(e, "last-column-id"),
            Schemas = schemas,
            CurrentSchemaId = currentSchemaId,
            PartitionSpecs = specs,
            DefaultSpecId = defaultSpecId,
            LastPartitionId = Json.OptionalInt(e, "last-partition-id") ?? specs.Max(s => s.LastAssignedFieldId),
            Properties = Json.StringMap(e, "properties"),
            CurrentSnapshotId = currentSnapshotId,
            Snapshots = snapshots,
            SnapshotLog = ReadArray(e, "snapshot-log", x => new SnapshotLogEntry(Json.RequiredLong(x, "timestamp-ms"), Json.RequiredLong(x, "snapshot-id"))),
            MetadataLog = ReadArray(e, "metadata-log", x => new MetadataLogEntry(Json.RequiredLong(x, "timestamp-ms"), Json.RequiredString(x, "metadata-file"))),
            SortOrders = orders,
            DefaultSortOrderId = Json.OptionalInt(e, "default-sort-order-id") ?? orders[0].OrderId,
            Refs = refs,
            Statistics = ReadArray(e, "statistics", ReadStatistics),
            PartitionStatistics = ReadArray(e, "partition-statistics", ReadStatistics),
        };
    }

    private static List<T> ReadArray<T>(JsonElement e, string key, Func<JsonElement, T> read) =>
        e.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(read).ToList() : [];

    public static StatisticsFile ReadStatistics(JsonElement e) => new(Json.RequiredLong(e, "snapshot-id"), e.GetRawText());

    public static Snapshot ReadSnapshot(JsonElement e)
    {
        var summary = Json.StringMap(e, "summary");
        if (!summary.ContainsKey("operation")) summary["operation"] = "overwrite";
        var manifestList = Json.OptionalString(e, "manifest-list");
        List<string>? manifests = null;
        if (manifestList is null)
        {
            if (!e.TryGetProperty("manifests", out var inline) || inline.ValueKind != JsonValueKind.Array)
                throw new FormatException($"Snapshot {Json.RequiredLong(e, "snapshot-id")} has neither a manifest-list nor a v1 manifests array.");
            manifests = inline.EnumerateArray().Select(m => m.GetString()
                ?? throw new FormatException($"Snapshot {Json.RequiredLong(e, "snapshot-id")} lists a null manifest.")).ToList();
        }
        return new Snapshot
        {
            SnapshotId = Json.RequiredLong(e, "snapshot-id"),
            ParentSnapshotId = Json.OptionalLong(e, "parent-snapshot-id"),
            SequenceNumber = Json.OptionalLong(e, "sequence-number") ?? 0,
            TimestampMs = Json.RequiredLong(e, "timestamp-ms"),
            ManifestList = manifestList,
            Manifests = manifests,
            Summary = summary,
            SchemaId = Json.OptionalInt(e, "schema-id"),
        };
    }

    public static SnapshotRef ReadRef(JsonElement e)
    {
        var type = Json.RequiredString(e, "type") switch
        {
            "branch" => SnapshotRefType.Branch,
            "tag" => SnapshotRefType.Tag,
            var t => throw new FormatException($"Snapshot ref type '{t}' is invalid; valid: branch, tag."),
        };
        return new SnapshotRef(Json.RequiredLong(e, "snapshot-id"), type,
            Json.OptionalInt(e, "min-snapshots-to-keep"), Json.OptionalLong(e, "max-snapshot-age-ms"), Json.OptionalLong(e, "max-ref-age-ms"));
    }
}
