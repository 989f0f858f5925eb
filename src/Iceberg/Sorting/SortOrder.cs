using System.Text.Json;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Sorting;

/// <summary>A sort order: id 0 is reserved for "unsorted" (no fields).</summary>
public sealed class SortOrder
{
    public static readonly SortOrder Unsorted = new(0, []);

    public SortOrder(int orderId, IEnumerable<SortField> fields)
    {
        OrderId = orderId;
        Fields = fields.ToArray();
        if (orderId == 0 && Fields.Count > 0) throw new ArgumentException("Sort order id 0 is reserved for the unsorted order.");
    }

    public int OrderId { get; }
    public IReadOnlyList<SortField> Fields { get; }
    public bool IsUnsorted => Fields.Count == 0;

    /// <summary>A sort order by columns of <paramref name="schema"/>, ascending with nulls first unless given.</summary>
    public static SortOrder By(Schema schema, int orderId, params (string Column, SortDirection Direction)[] columns) =>
        new(orderId, columns.Select(c => new SortField(schema.Field(c.Column).Id, Transform.Identity, c.Direction,
            c.Direction == SortDirection.Asc ? NullOrder.NullsFirst : NullOrder.NullsLast)));

    public bool SameOrder(SortOrder other) => Fields.SequenceEqual(other.Fields);
    public SortOrder WithOrderId(int orderId) => new(orderId, Fields);

    public string ToJson() => Json.Write(w => SortOrderJson.Write(w, this));
    public static SortOrder FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return SortOrderJson.Read(doc.RootElement);
    }
}
