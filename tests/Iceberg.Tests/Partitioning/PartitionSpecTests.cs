using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Partitioning;

public class PartitionSpecTests
{
    private static readonly Schema Schema = new(0, [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "data", PrimitiveType.String),
        NestedField.Optional(4, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(5, "tags", new ListType(6, true, PrimitiveType.String)),
    ]);

    [Fact]
    public void Builder_assigns_field_ids_from_1000_and_default_names()
    {
        var spec = PartitionSpec.BuilderFor(Schema).Day("ts").Bucket("id", 16).Truncate("data", 4).Build();
        Assert.Equal([1000, 1001, 1002], spec.Fields.Select(f => f.FieldId));
        Assert.Equal(["ts_day", "id_bucket", "data_trunc"], spec.Fields.Select(f => f.Name));
        Assert.Equal(1002, spec.LastAssignedFieldId);
    }

    [Fact]
    public void Json_matches_appendix_C_and_round_trips()
    {
        var spec = PartitionSpec.BuilderFor(Schema).Day("ts").Bucket("id", 16).Build();
        var json = spec.ToJson();
        Assert.Equal(
            """{"spec-id":0,"fields":[{"name":"ts_day","transform":"day","source-id":4,"field-id":1000},{"name":"id_bucket","transform":"bucket[16]","source-id":1,"field-id":1001}]}""",
            json);
        var back = PartitionSpec.FromJson(json);
        Assert.True(back.CompatibleWith(spec));
    }

    [Fact]
    public void V1_fields_without_ids_get_sequential_ids_from_1000()
    {
        var spec = PartitionSpec.FromJson("""{"spec-id":0,"fields":[{"name":"a","transform":"identity","source-id":1},{"name":"b","transform":"day","source-id":4}]}""");
        Assert.Equal([1000, 1001], spec.Fields.Select(f => f.FieldId));
    }

    [Fact]
    public void Partition_values_form_a_typed_struct_and_a_path()
    {
        var spec = PartitionSpec.BuilderFor(Schema).Day("ts").Bucket("id", 16).Build();
        var type = spec.PartitionType(Schema);
        Assert.Equal(PrimitiveType.Date, type.Fields[0].Type);
        Assert.Equal(1000, type.Fields[0].Id);
        Assert.Equal(PrimitiveType.Int, type.Fields[1].Type);

        var ts = (new DateTime(2024, 1, 1, 5, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;
        var partition = spec.Partition(Schema, id => id switch { 1 => 34L, 4 => ts, _ => null });
        Assert.Equal(new PartitionData([19723, 2017239379 % 16]), partition);
        Assert.Equal("ts_day=2024-01-01/id_bucket=3", spec.PartitionPath(Schema, partition));
    }

    [Fact]
    public void Invalid_partitioning_is_refused_with_the_reason()
    {
        var e = Assert.Throws<ArgumentException>(() => PartitionSpec.BuilderFor(Schema).Hour("data"));
        Assert.Contains("'data' of type string by hour", e.Message);
        Assert.Throws<ArgumentException>(() => PartitionSpec.BuilderFor(Schema).Identity("tags.element"));
        Assert.Throws<ArgumentException>(() => PartitionSpec.BuilderFor(Schema).Identity("missing"));
    }

    [Fact]
    public void Evolution_assigns_new_ids_above_last_partition_id_and_reuses_ids_of_equivalent_fields()
    {
        var v0 = PartitionSpec.BuilderFor(Schema).Day("ts").Build();
        var (v1, last1) = new PartitionSpecUpdate(Schema, v0, [v0], 1000).RemoveField("ts_day").AddField("id", Transform.Bucket(8)).Apply();
        Assert.Equal(1, v1.SpecId);
        Assert.Equal(1001, v1.Fields.Single().FieldId);
        Assert.Equal(1001, last1);

        var (v2, last2) = new PartitionSpecUpdate(Schema, v1, [v0, v1], last1).AddField("ts", Transform.Day).RenameField("id_bucket", "b").Apply();
        Assert.Equal([1001, 1000], v2.Fields.Select(f => f.FieldId));
        Assert.Equal("b", v2.Fields[0].Name);
        Assert.Equal(1001, last2);
        Assert.Equal(2, v2.SpecId);

        var (same, _) = new PartitionSpecUpdate(Schema, v1, [v0, v1], last2).Apply();
        Assert.Equal(1, same.SpecId);
    }
}
