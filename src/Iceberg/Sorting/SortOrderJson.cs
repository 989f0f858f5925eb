using System.Text.Json;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Sorting;

/// <summary>Sort orders as JSON (Appendix C): <c>{"order-id":1,"fields":[{"transform","source-id","direction","null-order"}]}</c>.</summary>
public static class SortOrderJson
{
    public static void Write(Utf8JsonWriter w, SortOrder order)
    {
        w.WriteStartObject();
        w.WriteNumber("order-id", order.OrderId);
        w.WriteStartArray("fields");
        foreach (var f in order.Fields)
        {
            w.WriteStartObject();
            w.WriteString("transform", f.Transform.ToString());
            w.WriteNumber("source-id", f.SourceId);
            w.WriteString("direction", f.Direction == SortDirection.Asc ? "asc" : "desc");
            w.WriteString("null-order", f.NullOrder == NullOrder.NullsFirst ? "nulls-first" : "nulls-last");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static SortOrder Read(JsonElement e)
    {
        var fields = new List<SortField>();
        foreach (var f in Json.Required(e, "fields").EnumerateArray())
        {
            var sourceId = Json.OptionalInt(f, "source-id")
                ?? (f.TryGetProperty("source-ids", out var ids) && ids.GetArrayLength() == 1 ? ids[0].GetInt32()
                    : throw new FormatException($"Sort field needs 'source-id': {f.GetRawText()}"));
            var direction = Json.RequiredString(f, "direction") switch
            {
                "asc" => SortDirection.Asc,
                "desc" => SortDirection.Desc,
                var d => throw new FormatException($"Sort direction '{d}' is invalid; valid: asc, desc."),
            };
            var nulls = Json.RequiredString(f, "null-order") switch
            {
                "nulls-first" => NullOrder.NullsFirst,
                "nulls-last" => NullOrder.NullsLast,
                var n => throw new FormatException($"Null order '{n}' is invalid; valid: nulls-first, nulls-last."),
            };
            fields.Add(new SortField(sourceId, Transform.Parse(Json.RequiredString(f, "transform")), direction, nulls));
        }
        return new SortOrder(Json.RequiredInt(e, "order-id"), fields);
    }
}
