using System.Text.Json;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// A change to table metadata, one per REST catalog <c>TableUpdate</c> action (rest-catalog-open-api.yaml); applied by
/// <see cref="TableMetadataBuilder"/>. The JSON form is the REST one, <c>{"action":"add-schema",...}</c>.
/// </summary>
public abstract record TableUpdate
{
    public abstract string Action { get; }

    public sealed record AssignUuid(string Uuid) : TableUpdate { public override string Action => "assign-uuid"; }
    public sealed record UpgradeFormatVersion(int FormatVersion) : TableUpdate { public override string Action => "upgrade-format-version"; }
    public sealed record AddSchema(Schema Schema, int? LastColumnId = null) : TableUpdate { public override string Action => "add-schema"; }
    /// <summary>Schema id -1 means the schema added last in the same commit.</summary>
    public sealed record SetCurrentSchema(int SchemaId) : TableUpdate { public override string Action => "set-current-schema"; }
    public sealed record AddSpec(PartitionSpec Spec) : TableUpdate { public override string Action => "add-spec"; }
    public sealed record SetDefaultSpec(int SpecId) : TableUpdate { public override string Action => "set-default-spec"; }
    public sealed record AddSortOrder(SortOrder SortOrder) : TableUpdate { public override string Action => "add-sort-order"; }
    public sealed record SetDefaultSortOrder(int SortOrderId) : TableUpdate { public override string Action => "set-default-sort-order"; }
    public sealed record AddSnapshot(Snapshot Snapshot) : TableUpdate { public override string Action => "add-snapshot"; }
    public sealed record SetSnapshotRef(string RefName, SnapshotRef Ref) : TableUpdate { public override string Action => "set-snapshot-ref"; }
    public sealed record RemoveSnapshots(IReadOnlyList<long> SnapshotIds) : TableUpdate { public override string Action => "remove-snapshots"; }
    public sealed record RemoveSnapshotRef(string RefName) : TableUpdate { public override string Action => "remove-snapshot-ref"; }
    public sealed record SetLocation(string Location) : TableUpdate { public override string Action => "set-location"; }
    public sealed record SetProperties(IReadOnlyDictionary<string, string> Updates) : TableUpdate { public override string Action => "set-properties"; }
    public sealed record RemoveProperties(IReadOnlyList<string> Removals) : TableUpdate { public override string Action => "remove-properties"; }
    public sealed record SetStatistics(StatisticsFile Statistics) : TableUpdate { public override string Action => "set-statistics"; }
    public sealed record RemoveStatistics(long SnapshotId) : TableUpdate { public override string Action => "remove-statistics"; }
    public sealed record SetPartitionStatistics(StatisticsFile PartitionStatistics) : TableUpdate { public override string Action => "set-partition-statistics"; }
    public sealed record RemovePartitionStatistics(long SnapshotId) : TableUpdate { public override string Action => "remove-partition-statistics"; }
    public sealed record RemovePartitionSpecs(IReadOnlyList<int> SpecIds) : TableUpdate { public override string Action => "remove-partition-specs"; }
    public sealed record RemoveSchemas(IReadOnlyList<int> SchemaIds) : TableUpdate { public override string Action => "remove-schemas"; }

    public string ToJson() => Json.Write(w => Write(w));

    public static TableUpdate FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("action", Action);
        switch (this)
        {
            case AssignUuid u: w.WriteString("uuid", u.Uuid); break;
            case UpgradeFormatVersion u: w.WriteNumber("format-version", u.FormatVersion); break;
            case AddSchema u:
                w.WritePropertyName("schema");
                SchemaJson.Write(w, u.Schema);
                if (u.LastColumnId is { } last) w.WriteNumber("last-column-id", last);
                break;
            case SetCurrentSchema u: w.WriteNumber("schema-id", u.SchemaId); break;
            case AddSpec u:
                w.WritePropertyName("spec");
                PartitionSpecJson.Write(w, u.Spec);
                break;
            case SetDefaultSpec u: w.WriteNumber("spec-id", u.SpecId); break;
            case AddSortOrder u:
                w.WritePropertyName("sort-order");
                SortOrderJson.Write(w, u.SortOrder);
                break;
            case SetDefaultSortOrder u: w.WriteNumber("sort-order-id", u.SortOrderId); break;
            case AddSnapshot u:
                w.WritePropertyName("snapshot");
                TableMetadataJson.WriteSnapshot(w, u.Snapshot);
                break;
            case SetSnapshotRef u:
                w.WriteString("ref-name", u.RefName);
                TableMetadataJson.WriteRefFields(w, u.Ref);
                break;
            case RemoveSnapshots u:
                w.WriteStartArray("snapshot-ids");
                foreach (var id in u.SnapshotIds) w.WriteNumberValue(id);
                w.WriteEndArray();
                break;
            case RemoveSnapshotRef u: w.WriteString("ref-name", u.RefName); break;
            case SetLocation u: w.WriteString("location", u.Location); break;
            case SetProperties u:
                w.WriteStartObject("updates");
                foreach (var (k, v) in u.Updates) w.WriteString(k, v);
                w.WriteEndObject();
                break;
            case RemoveProperties u:
                w.WriteStartArray("removals");
                foreach (var k in u.Removals) w.WriteStringValue(k);
                w.WriteEndArray();
                break;
            case SetStatistics u:
                w.WriteNumber("snapshot-id", u.Statistics.SnapshotId);
                w.WritePropertyName("statistics");
                w.WriteRawValue(u.Statistics.Json);
                break;
            case RemoveStatistics u: w.WriteNumber("snapshot-id", u.SnapshotId); break;
            case SetPartitionStatistics u:
                w.WritePropertyName("partition-statistics");
                w.WriteRawValue(u.PartitionStatistics.Json);
                break;
            case RemovePartitionStatistics u: w.WriteNumber("snapshot-id", u.SnapshotId); break;
            case RemovePartitionSpecs u:
                w.WriteStartArray("spec-ids");
                foreach (var id in u.SpecIds) w.WriteNumberValue(id);
                w.WriteEndArray();
                break;
            case RemoveSchemas u:
                w.WriteStartArray("schema-ids");
                foreach (var id in u.SchemaIds) w.WriteNumberValue(id);
                w.WriteEndArray();
                break;
        }
        w.WriteEndObject();
    }

    public static TableUpdate Read(JsonElement e)
    {
        var action = Json.RequiredString(e, "action");
        return action switch
        {
            "assign-uuid" => new AssignUuid(Json.RequiredString(e, "uuid")),
            "upgrade-format-version" => new UpgradeFormatVersion(Json.RequiredInt(e, "format-version")),
            "add-schema" => new AddSchema(SchemaJson.Read(Json.Required(e, "schema")), Json.OptionalInt(e, "last-column-id")),
            "set-current-schema" => new SetCurrentSchema(Json.RequiredInt(e, "schema-id")),
            "add-spec" => new AddSpec(PartitionSpecJson.Read(Json.Required(e, "spec"))),
            "set-default-spec" => new SetDefaultSpec(Json.RequiredInt(e, "spec-id")),
            "add-sort-order" => new AddSortOrder(SortOrderJson.Read(Json.Required(e, "sort-order"))),
            "set-default-sort-order" => new SetDefaultSortOrder(Json.RequiredInt(e, "sort-order-id")),
            "add-snapshot" => new AddSnapshot(TableMetadataJson.ReadSnapshot(Json.Required(e, "snapshot"))),
            "set-snapshot-ref" => new SetSnapshotRef(Json.RequiredString(e, "ref-name"), TableMetadataJson.ReadRef(e)),
            "remove-snapshots" => new RemoveSnapshots(Json.Required(e, "snapshot-ids").EnumerateArray().Select(x => x.GetInt64()).ToList()),
            "remove-snapshot-ref" => new RemoveSnapshotRef(Json.RequiredString(e, "ref-name")),
            "set-location" => new SetLocation(Json.RequiredString(e, "location")),
            "set-properties" => new SetProperties(Json.StringMap(e, "updates")),
            "remove-properties" => new RemoveProperties(Json.Required(e, "removals").EnumerateArray().Select(x => x.GetString()!).ToList()),
            "set-statistics" => new SetStatistics(TableMetadataJson.ReadStatistics(Json.Required(e, "statistics"))),
            "remove-statistics" => new RemoveStatistics(Json.RequiredLong(e, "snapshot-id")),
            "set-partition-statistics" => new SetPartitionStatistics(TableMetadataJson.ReadStatistics(Json.Required(e, "partition-statistics"))),
            "remove-partition-statistics" => new RemovePartitionStatistics(Json.RequiredLong(e, "snapshot-id")),
            "remove-partition-specs" => new RemovePartitionSpecs(Json.IntList(e, "spec-ids")),
            "remove-schemas" => new RemoveSchemas(Json.IntList(e, "schema-ids")),
            _ => throw new FormatException($"Unknown table update action '{action}'."),
        };
    }
}
