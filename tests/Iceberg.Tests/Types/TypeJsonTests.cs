using System.Text.Json;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Types;

public class TypeJsonTests
{
    public static TheoryData<string> PrimitiveNames => new()
    {
        "boolean", "int", "long", "float", "double", "decimal(9,2)", "decimal(38,10)", "date", "time",
        "timestamp", "timestamptz", "string", "uuid", "fixed[16]", "binary",
    };

    [Theory]
    [MemberData(nameof(PrimitiveNames))]
    public void Every_primitive_round_trips_through_its_canonical_string(string name)
    {
        var type = PrimitiveType.Parse(name);
        Assert.Equal(name, type.ToString());
        var json = Json.Write(w => TypeJson.Write(w, type));
        Assert.Equal($"\"{name}\"", json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(type, TypeJson.Read(doc.RootElement));
    }

    [Fact]
    public void Parameterized_types_accept_whitespace_around_parameters()
    {
        Assert.Equal(PrimitiveType.Decimal(9, 2), PrimitiveType.Parse("decimal(9, 2)"));
        Assert.Equal(PrimitiveType.Fixed(16), PrimitiveType.Parse(" fixed[ 16 ] "));
    }

    [Fact]
    public void Unknown_type_is_rejected_with_the_valid_names()
    {
        var e = Assert.Throws<FormatException>(() => PrimitiveType.Parse("varchar"));
        Assert.Contains("'varchar'", e.Message);
        Assert.Contains("decimal(P,S)", e.Message);
    }

    [Fact]
    public void Decimal_precision_above_38_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PrimitiveType.Decimal(39, 2));
    }

    [Fact]
    public void Nested_types_write_the_spec_keys()
    {
        var schema = new Schema(1, [
            NestedField.Require(1, "id", PrimitiveType.Uuid),
            NestedField.Optional(2, "data", new ListType(3, true, PrimitiveType.String)),
            NestedField.Optional(4, "attrs", new MapType(5, PrimitiveType.String, 6, false, PrimitiveType.Double), "doc of attrs"),
            NestedField.Optional(7, "location", new StructType(
                NestedField.Require(8, "lat", PrimitiveType.Float),
                NestedField.Require(9, "long", PrimitiveType.Float))),
        ], [1]);

        var json = schema.ToJson();

        Assert.Equal(
            """{"type":"struct","schema-id":1,"identifier-field-ids":[1],"fields":[""" +
            """{"id":1,"name":"id","required":true,"type":"uuid"},""" +
            """{"id":2,"name":"data","required":false,"type":{"type":"list","element-id":3,"element":"string","element-required":true}},""" +
            """{"id":4,"name":"attrs","required":false,"type":{"type":"map","key-id":5,"key":"string","value-id":6,"value":"double","value-required":false},"doc":"doc of attrs"},""" +
            """{"id":7,"name":"location","required":false,"type":{"type":"struct","fields":[{"id":8,"name":"lat","required":true,"type":"float"},{"id":9,"name":"long","required":true,"type":"float"}]}}]}""",
            json);
        var back = Schema.FromJson(json);
        Assert.True(back.SameSchema(schema));
        Assert.Equal(1, back.SchemaId);
    }

    [Fact]
    public void Reads_the_spec_example_with_defaults_and_keeps_them()
    {
        const string json = """
            {"type":"struct","schema-id":0,"fields":[
              {"id":1,"name":"id","required":true,"type":"uuid",
               "initial-default":"0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb","write-default":"ec5911be-b0a7-458c-8438-c9a3e53cffae"},
              {"id":2,"name":"price","required":false,"type":"decimal(9, 2)"}]}
            """;
        var schema = Schema.FromJson(json);
        Assert.Equal("\"0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb\"", schema.Field("id").InitialDefaultJson);
        Assert.Equal(PrimitiveType.Decimal(9, 2), schema.Field("price").Type);
        Assert.Contains("\"write-default\":\"ec5911be-b0a7-458c-8438-c9a3e53cffae\"", schema.ToJson());
    }

    [Fact]
    public void Nested_fields_are_found_by_id_and_dotted_name()
    {
        var schema = new Schema(0, [
            NestedField.Optional(1, "points", new ListType(2, true, new StructType(NestedField.Require(3, "x", PrimitiveType.Long)))),
            NestedField.Optional(4, "m", new MapType(5, PrimitiveType.String, 6, true, PrimitiveType.Int)),
        ]);
        Assert.Equal(3, schema.Field("points.element.x").Id);
        Assert.Equal("m.value", schema.FindColumnName(6));
        Assert.Equal(6, schema.HighestFieldId);
        Assert.Equal(2, schema.ParentId(3));
    }

    [Fact]
    public void Duplicate_field_ids_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new Schema(0, [
            NestedField.Optional(1, "a", PrimitiveType.Int), NestedField.Optional(1, "b", PrimitiveType.Int)]));
        Assert.Contains("id 1", e.Message);
    }

    [Fact]
    public void Missing_required_key_names_the_key()
    {
        var e = Assert.Throws<FormatException>(() => Schema.FromJson("""{"type":"struct","fields":[{"id":1,"name":"a","type":"int"}]}"""));
        Assert.Contains("'required'", e.Message);
    }
}
