using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Metadata;

public class TableUpdateJsonTests
{
    private static readonly Schema Schema = new(1, [NestedField.Require(1, "id", PrimitiveType.Long)]);

    public static TheoryData<string> Updates => new()
    {
        """{"action":"assign-uuid","uuid":"2cc52516-5e73-41f2-b139-545d41a4e151"}""",
        """{"action":"upgrade-format-version","format-version":2}""",
        """{"action":"add-schema","schema":{"type":"struct","schema-id":1,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]},"last-column-id":1}""",
        """{"action":"set-current-schema","schema-id":-1}""",
        """{"action":"add-spec","spec":{"spec-id":1,"fields":[{"name":"id_bucket","transform":"bucket[16]","source-id":1,"field-id":1000}]}}""",
        """{"action":"set-default-spec","spec-id":1}""",
        """{"action":"add-sort-order","sort-order":{"order-id":1,"fields":[{"transform":"identity","source-id":1,"direction":"asc","null-order":"nulls-first"}]}}""",
        """{"action":"set-default-sort-order","sort-order-id":1}""",
        """{"action":"add-snapshot","snapshot":{"sequence-number":3,"snapshot-id":7,"parent-snapshot-id":6,"timestamp-ms":1000,"summary":{"operation":"append","added-records":"5"},"manifest-list":"s3://b/m.avro","schema-id":1}}""",
        """{"action":"set-snapshot-ref","ref-name":"main","snapshot-id":7,"type":"branch","min-snapshots-to-keep":2,"max-snapshot-age-ms":3,"max-ref-age-ms":4}""",
        """{"action":"remove-snapshots","snapshot-ids":[1,2]}""",
        """{"action":"remove-snapshot-ref","ref-name":"tag1"}""",
        """{"action":"set-location","location":"s3://b/new"}""",
        """{"action":"set-properties","updates":{"a":"1","b":"2"}}""",
        """{"action":"remove-properties","removals":["a"]}""",
        """{"action":"set-statistics","snapshot-id":7,"statistics":{"snapshot-id":7,"statistics-path":"s3://b/s.puffin","file-size-in-bytes":1,"file-footer-size-in-bytes":1,"blob-metadata":[]}}""",
        """{"action":"remove-statistics","snapshot-id":7}""",
        """{"action":"set-partition-statistics","partition-statistics":{"snapshot-id":7,"statistics-path":"s3://b/p.parquet","file-size-in-bytes":1}}""",
        """{"action":"remove-partition-statistics","snapshot-id":7}""",
        """{"action":"remove-partition-specs","spec-ids":[1]}""",
        """{"action":"remove-schemas","schema-ids":[0]}""",
    };

    [Theory]
    [MemberData(nameof(Updates))]
    public void Every_update_action_round_trips_through_the_REST_json(string json)
    {
        Assert.Equal(json, TableUpdate.FromJson(json).ToJson());
    }

    public static TheoryData<string> Requirements => new()
    {
        """{"type":"assert-create"}""",
        """{"type":"assert-table-uuid","uuid":"2cc52516-5e73-41f2-b139-545d41a4e151"}""",
        """{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":7}""",
        """{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}""",
        """{"type":"assert-last-assigned-field-id","last-assigned-field-id":3}""",
        """{"type":"assert-current-schema-id","current-schema-id":1}""",
        """{"type":"assert-last-assigned-partition-id","last-assigned-partition-id":1000}""",
        """{"type":"assert-default-spec-id","default-spec-id":0}""",
        """{"type":"assert-default-sort-order-id","default-sort-order-id":0}""",
    };

    [Theory]
    [MemberData(nameof(Requirements))]
    public void Every_requirement_round_trips_through_the_REST_json(string json)
    {
        Assert.Equal(json, TableRequirement.FromJson(json).ToJson());
    }

    [Fact]
    public void Requirements_check_the_metadata_and_name_what_changed()
    {
        var m = TableMetadata.NewTable("s3://b/t", Schema, PartitionSpec.BuilderFor(Schema).Bucket("id", 4).Build(), tableUuid: "2cc52516-5e73-41f2-b139-545d41a4e151");
        new TableRequirement.AssertTableUuid("2CC52516-5E73-41F2-B139-545D41A4E151").Validate(m);
        new TableRequirement.AssertRefSnapshotId("main", null).Validate(m);
        new TableRequirement.AssertLastAssignedFieldId(1).Validate(m);
        new TableRequirement.AssertCurrentSchemaId(0).Validate(m);
        new TableRequirement.AssertLastAssignedPartitionId(1000).Validate(m);
        new TableRequirement.AssertDefaultSpecId(0).Validate(m);
        new TableRequirement.AssertDefaultSortOrderId(0).Validate(m);
        new TableRequirement.AssertCreate().Validate(null);

        Assert.Contains("already exists", Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertCreate().Validate(m)).Message);
        Assert.Contains("expected 5 != 1", Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertLastAssignedFieldId(5).Validate(m)).Message);
        Assert.Contains("'main' is missing", Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertRefSnapshotId("main", 3).Validate(m)).Message);
        Assert.Contains("expected id 2 != 0", Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertDefaultSpecId(2).Validate(m)).Message);
        Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertTableUuid("00000000-0000-0000-0000-000000000000").Validate(m));
        Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertCurrentSchemaId(3).Validate(m));
        Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertLastAssignedPartitionId(999).Validate(m));
        Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertDefaultSortOrderId(1).Validate(m));
        Assert.Throws<CommitFailedException>(() => new TableRequirement.AssertTableUuid("x").Validate(null));
    }

    [Fact]
    public void Builder_records_the_applied_changes_for_a_REST_commit()
    {
        var m = TableMetadata.NewTable("s3://b/t", Schema);
        var b = TableMetadataBuilder.From(m).Apply(new TableUpdate.SetProperties(new Dictionary<string, string> { ["k"] = "v" }))
            .Apply(new TableUpdate.AddSortOrder(SortOrder.By(Schema, 5, ("id", SortDirection.Desc))));
        Assert.Equal(["set-properties", "add-sort-order"], b.Changes.Select(c => c.Action));
        Assert.Equal(1, ((TableUpdate.AddSortOrder)b.Changes[1]).SortOrder.OrderId);
    }
}
