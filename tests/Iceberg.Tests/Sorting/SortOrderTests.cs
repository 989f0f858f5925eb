using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Sorting;

public class SortOrderTests
{
    [Fact]
    public void Json_matches_appendix_C_and_round_trips()
    {
        var schema = new Schema(0, [NestedField.Require(1, "id", PrimitiveType.Long), NestedField.Optional(2, "ts", PrimitiveType.Timestamp)]);
        var order = SortOrder.By(schema, 1, ("ts", SortDirection.Desc), ("id", SortDirection.Asc));
        var json = order.ToJson();
        Assert.Equal(
            """{"order-id":1,"fields":[{"transform":"identity","source-id":2,"direction":"desc","null-order":"nulls-last"},{"transform":"identity","source-id":1,"direction":"asc","null-order":"nulls-first"}]}""",
            json);
        Assert.True(SortOrder.FromJson(json).SameOrder(order));
        Assert.True(SortOrder.FromJson("""{"order-id":0,"fields":[]}""").IsUnsorted);
    }

    [Fact]
    public void Invalid_direction_is_reported()
    {
        var e = Assert.Throws<FormatException>(() => SortOrder.FromJson("""{"order-id":1,"fields":[{"transform":"identity","source-id":1,"direction":"up","null-order":"nulls-last"}]}"""));
        Assert.Contains("'up'", e.Message);
    }
}
