using System.Text.Json;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// A precondition of a commit, one per REST catalog <c>TableRequirement</c> type; <see cref="Validate"/> checks it
/// against the table's current metadata (null when the table does not exist) and throws
/// <see cref="CommitFailedException"/> naming what differs.
/// </summary>
public abstract record TableRequirement
{
    public abstract string Type { get; }

    public sealed record AssertCreate : TableRequirement { public override string Type => "assert-create"; }
    public sealed record AssertTableUuid(string Uuid) : TableRequirement { public override string Type => "assert-table-uuid"; }
    /// <summary>The ref must point at <see cref="SnapshotId"/>; null means the ref must not exist.</summary>
    public sealed record AssertRefSnapshotId(string Ref, long? SnapshotId) : TableRequirement { public override string Type => "assert-ref-snapshot-id"; }
    public sealed record AssertLastAssignedFieldId(int LastAssignedFieldId) : TableRequirement { public override string Type => "assert-last-assigned-field-id"; }
    public sealed record AssertCurrentSchemaId(int CurrentSchemaId) : TableRequirement { public override string Type => "assert-current-schema-id"; }
    public sealed record AssertLastAssignedPartitionId(int LastAssignedPartitionId) : TableRequirement { public override string Type => "assert-last-assigned-partition-id"; }
    public sealed record AssertDefaultSpecId(int DefaultSpecId) : TableRequirement { public override string Type => "assert-default-spec-id"; }
    public sealed record AssertDefaultSortOrderId(int DefaultSortOrderId) : TableRequirement { public override string Type => "assert-default-sort-order-id"; }

    /// <summary>
    /// The requirements <paramref name="updates"/> computed on <paramref name="basis"/> rest on, as Iceberg's reference
    /// implementation derives them: the same table; every branch or tag they move still where it was; the schema,
    /// partition spec or sort order they evolve still the current one (with no field or partition id assigned
    /// meanwhile); and, when snapshots are removed, no ref moved meanwhile (onto one of them, say).
    /// </summary>
    public static IReadOnlyList<TableRequirement> For(TableMetadata basis, IReadOnlyList<TableUpdate> updates)
    {
        var requirements = new List<TableRequirement> { new AssertTableUuid(basis.TableUuid) };
        var refs = new HashSet<string>(StringComparer.Ordinal);
        long? RefSnapshot(string name) => basis.Refs.TryGetValue(name, out var r) ? r.SnapshotId : null;
        void Add(TableRequirement requirement)
        {
            if (!requirements.Contains(requirement)) requirements.Add(requirement);
        }
        foreach (var update in updates)
        {
            switch (update)
            {
                case TableUpdate.SetSnapshotRef set when refs.Add(set.RefName):
                    Add(new AssertRefSnapshotId(set.RefName, RefSnapshot(set.RefName)));
                    break;
                case TableUpdate.RemoveSnapshotRef remove when refs.Add(remove.RefName):
                    Add(new AssertRefSnapshotId(remove.RefName, RefSnapshot(remove.RefName)));
                    break;
                case TableUpdate.RemoveSnapshots:
                    foreach (var name in basis.Refs.Keys)
                        if (refs.Add(name)) Add(new AssertRefSnapshotId(name, RefSnapshot(name)));
                    break;
                case TableUpdate.AddSchema or TableUpdate.SetCurrentSchema:
                    Add(new AssertLastAssignedFieldId(basis.LastColumnId));
                    Add(new AssertCurrentSchemaId(basis.CurrentSchemaId));
                    break;
                case TableUpdate.AddSpec or TableUpdate.SetDefaultSpec:
                    Add(new AssertLastAssignedPartitionId(basis.LastPartitionId));
                    Add(new AssertDefaultSpecId(basis.DefaultSpecId));
                    break;
                case TableUpdate.AddSortOrder or TableUpdate.SetDefaultSortOrder:
                    Add(new AssertDefaultSortOrderId(basis.DefaultSortOrderId));
                    break;
            }
        }
        return requirements;
    }

    public void Validate(TableMetadata? metadata)
    {
        if (this is AssertCreate)
        {
            if (metadata is not null) throw new CommitFailedException("Requirement failed: table already exists.");
            return;
        }
        if (metadata is null) throw new CommitFailedException($"Requirement failed ({Type}): table does not exist.");
        switch (this)
        {
            case AssertTableUuid r when !string.Equals(r.Uuid, metadata.TableUuid, StringComparison.OrdinalIgnoreCase):
                throw new CommitFailedException($"Requirement failed: table UUID does not match: expected {r.Uuid} != {metadata.TableUuid}.");
            case AssertRefSnapshotId r:
                var current = metadata.Refs.TryGetValue(r.Ref, out var reference) ? reference.SnapshotId
                    : r.Ref == SnapshotRef.MainBranch ? metadata.CurrentSnapshotId : null;
                if (r.SnapshotId is null && current is not null)
                    throw new CommitFailedException($"Requirement failed: ref '{r.Ref}' was created concurrently (now at snapshot {current}).");
                if (r.SnapshotId is not null && current != r.SnapshotId)
                    throw new CommitFailedException(current is null
                        ? $"Requirement failed: ref '{r.Ref}' is missing, expected snapshot {r.SnapshotId}."
                        : $"Requirement failed: ref '{r.Ref}' has changed: expected snapshot {r.SnapshotId} != {current}.");
                break;
            case AssertLastAssignedFieldId r when r.LastAssignedFieldId != metadata.LastColumnId:
                throw new CommitFailedException($"Requirement failed: last assigned field id changed: expected {r.LastAssignedFieldId} != {metadata.LastColumnId}.");
            case AssertCurrentSchemaId r when r.CurrentSchemaId != metadata.CurrentSchemaId:
                throw new CommitFailedException($"Requirement failed: current schema changed: expected id {r.CurrentSchemaId} != {metadata.CurrentSchemaId}.");
            case AssertLastAssignedPartitionId r when r.LastAssignedPartitionId != metadata.LastPartitionId:
                throw new CommitFailedException($"Requirement failed: last assigned partition id changed: expected {r.LastAssignedPartitionId} != {metadata.LastPartitionId}.");
            case AssertDefaultSpecId r when r.DefaultSpecId != metadata.DefaultSpecId:
                throw new CommitFailedException($"Requirement failed: default partition spec changed: expected id {r.DefaultSpecId} != {metadata.DefaultSpecId}.");
            case AssertDefaultSortOrderId r when r.DefaultSortOrderId != metadata.DefaultSortOrderId:
                throw new CommitFailedException($"Requirement failed: default sort order changed: expected id {r.DefaultSortOrderId} != {metadata.DefaultSortOrderId}.");
        }
    }

    public string ToJson() => Json.Write(w => Write(w));

    public static TableRequirement FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", Type);
        switch (this)
        {
            case AssertTableUuid r: w.WriteString("uuid", r.Uuid); break;
            case AssertRefSnapshotId r:
                w.WriteString("ref", r.Ref);
                if (r.SnapshotId is { } id) w.WriteNumber("snapshot-id", id);
                else w.WriteNull("snapshot-id");
                break;
            case AssertLastAssignedFieldId r: w.WriteNumber("last-assigned-field-id", r.LastAssignedFieldId); break;
            case AssertCurrentSchemaId r: w.WriteNumber("current-schema-id", r.CurrentSchemaId); break;
            case AssertLastAssignedPartitionId r: w.WriteNumber("last-assigned-partition-id", r.LastAssignedPartitionId); break;
            case AssertDefaultSpecId r: w.WriteNumber("default-spec-id", r.DefaultSpecId); break;
            case AssertDefaultSortOrderId r: w.WriteNumber("default-sort-order-id", r.DefaultSortOrderId); break;
        }
        w.WriteEndObject();
    }

    public static TableRequirement Read(JsonElement e)
    {
        var type = Json.RequiredString(e, "type");
        return type switch
        {
            "assert-create" => new AssertCreate(),
            "assert-table-uuid" => new AssertTableUuid(Json.RequiredString(e, "uuid")),
            "assert-ref-snapshot-id" => new AssertRefSnapshotId(Json.RequiredString(e, "ref"), Json.OptionalLong(e, "snapshot-id")),
            "assert-last-assigned-field-id" => new AssertLastAssignedFieldId(Json.RequiredInt(e, "last-assigned-field-id")),
            "assert-current-schema-id" => new AssertCurrentSchemaId(Json.RequiredInt(e, "current-schema-id")),
            "assert-last-assigned-partition-id" => new AssertLastAssignedPartitionId(Json.RequiredInt(e, "last-assigned-partition-id")),
            "assert-default-spec-id" => new AssertDefaultSpecId(Json.RequiredInt(e, "default-spec-id")),
            "assert-default-sort-order-id" => new AssertDefaultSortOrderId(Json.RequiredInt(e, "default-sort-order-id")),
            _ => throw new FormatException($"Unknown table requirement type '{type}'."),
        };
    }
}
