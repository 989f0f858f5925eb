using System.Text.Json;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Metadata;

public class TableMetadataTests
{
    private static readonly Schema Schema = new(0, [NestedField.Require(1, "id", PrimitiveType.Long), NestedField.Optional(2, "ts", PrimitiveType.TimestampTz)]);

    private static TableMetadata NewTable() => TableMetadata.NewTable("s3://b/wh/db/t", Schema,
        PartitionSpec.BuilderFor(Schema).Day("ts").Build(), SortOrder.By(Schema, 1, ("id", SortDirection.Asc)),
        new Dictionary<string, string> { ["owner"] = "me" }, "fb072c92-a02b-11e9-ae9c-1bb7bc9eca94");

    private static Snapshot Snap(long id, long? parent, long seq, long ts) => new()
    {
        SnapshotId = id, ParentSnapshotId = parent, SequenceNumber = seq, TimestampMs = ts,
        ManifestList = $"s3://b/wh/db/t/metadata/snap-{id}.avro",
        Summary = new Dictionary<string, string> { ["operation"] = "append", ["added-records"] = "10" }, SchemaId = 0,
    };

    [Fact]
    public void New_table_writes_every_v2_key_of_appendix_C()
    {
        var json = NewTable().ToJson();
        using var doc = JsonDocument.Parse(json);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal([
            "format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms", "last-column-id",
            "current-schema-id", "schemas", "default-spec-id", "partition-specs", "last-partition-id",
            "default-sort-order-id", "sort-orders", "properties", "current-snapshot-id", "refs", "snapshots",
            "statistics", "partition-statistics", "snapshot-log", "metadata-log"], keys);
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("format-version").GetInt32());
        Assert.Equal(-1, root.GetProperty("current-snapshot-id").GetInt64());
        Assert.Equal(2, root.GetProperty("last-column-id").GetInt32());
        Assert.Equal(1000, root.GetProperty("last-partition-id").GetInt32());
        Assert.Equal(1, root.GetProperty("default-sort-order-id").GetInt32());
        Assert.Equal("me", root.GetProperty("properties").GetProperty("owner").GetString());
        Assert.Equal("day", root.GetProperty("partition-specs")[0].GetProperty("fields")[0].GetProperty("transform").GetString());
    }

    [Fact]
    public void Snapshots_refs_and_logs_round_trip()
    {
        var m = TableMetadataBuilder.From(NewTable(), "s3://b/wh/db/t/metadata/00000-a.metadata.json").WithTimestamp(2000)
            .Apply(new TableUpdate.AddSnapshot(Snap(10, null, 1, 1500)))
            .Apply(new TableUpdate.SetSnapshotRef("main", SnapshotRef.Branch(10)))
            .Apply(new TableUpdate.SetSnapshotRef("v1", new SnapshotRef(10, SnapshotRefType.Tag, MaxRefAgeMs: 10000000)))
            .Build();
        Assert.Equal(10, m.CurrentSnapshotId);
        Assert.Equal(1, m.LastSequenceNumber);
        Assert.Equal([new SnapshotLogEntry(1500, 10)], m.SnapshotLog);
        Assert.Equal("s3://b/wh/db/t/metadata/00000-a.metadata.json", m.MetadataLog.Single().MetadataFile);

        var back = TableMetadata.FromJson(m.ToJson());
        Assert.Equal(m.ToJson(), back.ToJson());
        Assert.Equal(Snap(10, null, 1, 1500).Summary, back.CurrentSnapshot!.Summary);
        Assert.Equal(10000000, back.Refs["v1"].MaxRefAgeMs);
        Assert.Equal(SnapshotRefType.Tag, back.Refs["v1"].Type);
        Assert.Contains("\"summary\":{\"operation\":\"append\",\"added-records\":\"10\"}", m.ToJson(indented: false));
    }

    [Fact]
    public void Chained_commits_write_the_same_bytes_as_a_fresh_serialization_and_reflect_a_changed_snapshot()
    {
        // Each write copies the earlier snapshots' bytes kept from before; the file must still be what a full
        // serialization of a freshly read copy (new snapshot instances, nothing kept) gives.
        var m = NewTable();
        for (var i = 1; i <= 50; i++)
        {
            m = TableMetadataBuilder.From(m, $"s3://b/wh/db/t/metadata/{i:D5}-a.metadata.json").WithTimestamp(2000 + i)
                .Apply(new TableUpdate.AddSnapshot(Snap(i, i == 1 ? null : i - 1, i, 1500 + i)))
                .Apply(new TableUpdate.SetSnapshotRef("main", SnapshotRef.Branch(i)))
                .Build();
            var bytes = TableMetadataJson.WriteUtf8(m);
            var fresh = TableMetadataJson.Read(bytes);
            Assert.Equal(i, fresh.Snapshots.Count);
            Assert.Equal(bytes, TableMetadataJson.WriteUtf8(fresh));
            Assert.Equal(m.ToJson(indented: false), System.Text.Encoding.UTF8.GetString(bytes));
        }

        var changed = m with { Snapshots = [.. m.Snapshots.Take(49), m.Snapshots[49] with { Summary = new Dictionary<string, string> { ["operation"] = "overwrite" } }] };
        var written = JsonDocument.Parse(TableMetadataJson.WriteUtf8(changed)).RootElement.GetProperty("snapshots");
        Assert.Equal("overwrite", written[49].GetProperty("summary").GetProperty("operation").GetString());
        Assert.Equal("append", written[48].GetProperty("summary").GetProperty("operation").GetString());
        Assert.Equal(changed.ToJson(indented: false), TableMetadata.FromJson(changed.ToJson()).ToJson(indented: false));
    }

    [Fact]
    public void Reads_v1_metadata_and_minus_one_as_no_snapshot_and_keeps_statistics()
    {
        const string v1 = """
            {"format-version":1,"table-uuid":"d20125c8-7284-442c-9aea-15fee620737c","location":"s3://b/t","last-updated-ms":1602638573874,
             "last-column-id":3,"schema":{"type":"struct","fields":[{"id":1,"name":"x","required":true,"type":"long"},
               {"id":2,"name":"y","required":true,"type":"long","doc":"comment"},{"id":3,"name":"z","required":true,"type":"long"}]},
             "partition-spec":[{"name":"x","transform":"identity","source-id":1}],"properties":{},"current-snapshot-id":-1,"snapshots":[],
             "statistics":[{"snapshot-id":3055729675574597004,"statistics-path":"s3://a/b/stats.puffin","file-size-in-bytes":413,"file-footer-size-in-bytes":42,"blob-metadata":[]}]}
            """;
        var m = TableMetadata.FromJson(v1);
        Assert.Equal(1, m.FormatVersion);
        Assert.Null(m.CurrentSnapshotId);
        Assert.Null(m.CurrentSnapshot);
        Assert.Equal("comment", m.CurrentSchema.Field("y").Doc);
        Assert.Equal(1000, m.DefaultSpec.Fields.Single().FieldId);
        Assert.Equal(1000, m.LastPartitionId);
        Assert.True(m.DefaultSortOrder.IsUnsorted);
        var written = m.ToJson(indented: false);
        Assert.Contains("\"statistics\":[{\"snapshot-id\":3055729675574597004,\"statistics-path\":\"s3://a/b/stats.puffin\"", written);
        Assert.Equal(0, m.LastSequenceNumber);
        Assert.Null(TableMetadata.FromJson(v1.Replace("\"current-snapshot-id\":-1", "\"current-snapshot-id\":null")).CurrentSnapshotId);
    }

    [Fact]
    public void Time_travel_finds_the_snapshot_current_at_a_timestamp()
    {
        var m = TableMetadataBuilder.From(NewTable()).WithTimestamp(5000)
            .Apply(new TableUpdate.AddSnapshot(Snap(1, null, 1, 1000))).Apply(new TableUpdate.SetSnapshotRef("main", SnapshotRef.Branch(1)))
            .Apply(new TableUpdate.AddSnapshot(Snap(2, 1, 2, 2000))).Apply(new TableUpdate.SetSnapshotRef("main", SnapshotRef.Branch(2)))
            .Build();
        Assert.Null(m.SnapshotAsOf(999));
        Assert.Equal(1, m.SnapshotAsOf(1999)!.SnapshotId);
        Assert.Equal(2, m.SnapshotAsOf(2000)!.SnapshotId);
        Assert.Equal([2L, 1L], m.Ancestors(2).Select(s => s.SnapshotId));
    }

    [Fact]
    public void Builder_reuses_ids_of_equal_schemas_and_specs_and_tracks_last_ids()
    {
        var (evolved, last) = new SchemaUpdate(Schema, 2).AddColumn("name", PrimitiveType.String).Apply(0);
        var m = TableMetadataBuilder.From(NewTable())
            .Apply(new TableUpdate.AddSchema(evolved)).Apply(new TableUpdate.SetCurrentSchema(-1))
            .Apply(new TableUpdate.AddSchema(Schema))
            .Build();
        Assert.Equal(1, m.CurrentSchemaId);
        Assert.Equal(2, m.Schemas.Count);
        Assert.Equal(last, m.LastColumnId);

        var (spec, _) = new PartitionSpecUpdate(m.CurrentSchema, m.DefaultSpec, m.PartitionSpecs, m.LastPartitionId).AddField("id", Transform.Bucket(4)).Apply();
        var m2 = TableMetadataBuilder.From(m).Apply(new TableUpdate.AddSpec(spec)).Apply(new TableUpdate.SetDefaultSpec(-1)).Build();
        Assert.Equal(1, m2.DefaultSpecId);
        Assert.Equal(1001, m2.LastPartitionId);
        Assert.Throws<ArgumentException>(() => TableMetadataBuilder.From(m2).Apply(new TableUpdate.SetCurrentSchema(7)));
    }

    [Fact]
    public void Removing_snapshots_drops_their_refs_and_removing_main_clears_the_current_snapshot()
    {
        var m = TableMetadataBuilder.From(NewTable())
            .Apply(new TableUpdate.AddSnapshot(Snap(1, null, 1, 1000))).Apply(new TableUpdate.SetSnapshotRef("main", SnapshotRef.Branch(1)))
            .Apply(new TableUpdate.AddSnapshot(Snap(2, 1, 2, 2000))).Apply(new TableUpdate.SetSnapshotRef("audit", SnapshotRef.Branch(2)))
            .Build();
        var pruned = TableMetadataBuilder.From(m).Apply(new TableUpdate.RemoveSnapshots([2])).Build();
        Assert.False(pruned.Refs.ContainsKey("audit"));
        Assert.Single(pruned.Snapshots);
        var noMain = TableMetadataBuilder.From(m).Apply(new TableUpdate.RemoveSnapshotRef("main")).Build();
        Assert.Null(noMain.CurrentSnapshotId);
    }
}
