using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Schemas;

public class SchemaUpdateTests
{
    private static readonly Schema Base = new(0, [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "name", PrimitiveType.String),
        NestedField.Optional(3, "score", PrimitiveType.Float),
        NestedField.Optional(4, "count", PrimitiveType.Int),
        NestedField.Optional(5, "price", PrimitiveType.Decimal(9, 2)),
        NestedField.Optional(6, "location", new StructType(NestedField.Require(7, "lat", PrimitiveType.Double))),
    ], [1]);

    [Fact]
    public void Added_columns_get_ids_above_last_column_id_and_deleted_ids_are_not_reused()
    {
        var (s1, last1) = new SchemaUpdate(Base, 7).DeleteColumn("name").Apply(1);
        var (s2, last2) = new SchemaUpdate(s1, last1).AddColumn("name", PrimitiveType.String).Apply(2);
        Assert.Null(s1.FindField(2));
        Assert.Equal(8, s2.Field("name").Id);
        Assert.Equal(8, last2);
        Assert.Equal(2, s2.SchemaId);
    }

    [Fact]
    public void Adding_a_nested_type_assigns_fresh_ids_to_its_parts()
    {
        var (s, last) = new SchemaUpdate(Base, 10)
            .AddColumn("tags", new MapType(0, PrimitiveType.String, 0, false, new ListType(0, true, PrimitiveType.Int)))
            .AddColumn("alt", PrimitiveType.Double, parent: "location")
            .Apply(1);
        var tags = (MapType)s.Field("tags").Type;
        Assert.Equal(11, s.Field("tags").Id);
        Assert.Equal([12, 13, 14], new[] { tags.KeyId, tags.ValueId, ((ListType)tags.ValueType).ElementId });
        Assert.Equal(15, s.Field("location.alt").Id);
        Assert.Equal(15, last);
    }

    [Fact]
    public void Rename_keeps_the_id_and_refuses_a_taken_name()
    {
        var (s, _) = new SchemaUpdate(Base, 7).RenameColumn("name", "full_name").RenameColumn("location.lat", "latitude").Apply(1);
        Assert.Equal(2, s.Field("full_name").Id);
        Assert.Equal(7, s.Field("location.latitude").Id);
        var e = Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).RenameColumn("name", "score"));
        Assert.Contains("'score' already exists", e.Message);
    }

    [Fact]
    public void Allowed_promotions_widen_and_others_are_refused()
    {
        var (s, _) = new SchemaUpdate(Base, 7)
            .UpdateColumn("count", PrimitiveType.Long)
            .UpdateColumn("score", PrimitiveType.Double)
            .UpdateColumn("price", PrimitiveType.Decimal(12, 2))
            .Apply(1);
        Assert.Equal(PrimitiveType.Long, s.Field("count").Type);
        Assert.Equal(PrimitiveType.Double, s.Field("score").Type);
        Assert.Equal(PrimitiveType.Decimal(12, 2), s.Field("price").Type);

        Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).UpdateColumn("id", PrimitiveType.Int));
        Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).UpdateColumn("price", PrimitiveType.Decimal(12, 3)));
        var e = Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).UpdateColumn("name", PrimitiveType.Long));
        Assert.Contains("from string to long", e.Message);
    }

    [Fact]
    public void Columns_move_first_before_and_after()
    {
        var (s, _) = new SchemaUpdate(Base, 7).MoveFirst("price").MoveAfter("id", "count").MoveBefore("location", "name").Apply(1);
        Assert.Equal(["price", "location", "name", "score", "count", "id"], s.Columns.Select(c => c.Name));
    }

    [Fact]
    public void Identifier_columns_cannot_be_dropped_or_made_optional()
    {
        Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).DeleteColumn("id"));
        Assert.Throws<ArgumentException>(() => new SchemaUpdate(Base, 7).MakeColumnOptional("id"));
        var (s, _) = new SchemaUpdate(Base, 7).MakeColumnOptional("location.lat").Apply(1);
        Assert.False(s.Field("location.lat").Required);
    }

    [Fact]
    public void Required_columns_need_an_initial_default()
    {
        var (s, _) = new SchemaUpdate(Base, 7).AddRequiredColumn("flag", PrimitiveType.Boolean, "false").Apply(1);
        Assert.True(s.Field("flag").Required);
        Assert.Equal("false", s.Field("flag").InitialDefaultJson);
        Assert.Contains("\"initial-default\":false", s.ToJson());
    }
}
